/**
 * The loop engine: a turn as a plain async loop (model → tools → model … → end) over the shared
 * steps, with no Pregel runtime, channels, per-node runnables or RunnableConfig context on the
 * way. The thread's state is read and written through the same checkpoint saver, in LangGraph's
 * checkpoint format (same channels, versions, metadata), so that either engine continues a thread
 * the other wrote and everything that reads checkpoints sees what it sees today.
 */
import { HumanMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { emptyCheckpoint, type BaseCheckpointSaver, type Checkpoint, type CheckpointTuple } from '@langchain/langgraph';
import { reduceMessages } from './agent-state.js';
import { turnConfigurable, type AgentEngine, type Durability, type EngineDeps, type EngineTurn } from './engine.js';
import { callModel, callTools, hasPendingCalls, type StepContext, type StepState } from './steps.js';

/** The channels of the agent's state (see agent-state.ts). */
type StateChannel = 'messages' | 'memoryContext' | 'toolRounds' | 'limitReached' | 'invalidCalls';

interface LoopState extends StepState {
  memoryContext: string;
  toolRounds: number;
  limitReached: boolean;
}

type Version = string | number;

function newerVersion(a: Version | undefined, b: Version): Version {
  if (a === undefined) return b;
  if (typeof a === 'number' && typeof b === 'number') return b > a ? b : a;
  return String(b).localeCompare(String(a)) > 0 ? b : a;
}

/**
 * The thread's checkpoints as this run writes them. Each write is a checkpoint whose parent is
 * the one before, whose changed channels get one new version above every version the thread has
 * (as Pregel does for a step's writes) and whose `versions_seen` stay as they were: no node is
 * left triggered, so LangGraph starts the next turn from its input as after a run of its own.
 */
class ThreadCheckpoints {
  readonly #saver: BaseCheckpointSaver;
  readonly #threadId: string;
  readonly #ns: string;
  #last: Checkpoint | undefined;
  #step: number;
  readonly #changed = new Set<StateChannel>();
  #writing: Promise<unknown> = Promise.resolve();

  constructor(saver: BaseCheckpointSaver, threadId: string, saved: CheckpointTuple | undefined) {
    this.#saver = saver;
    this.#threadId = threadId;
    this.#ns = (saved?.config.configurable?.checkpoint_ns as string | undefined) ?? '';
    this.#last = saved?.checkpoint;
    this.#step = typeof saved?.metadata?.step === 'number' ? saved.metadata.step : -2;
  }

  /** A step ran and changed these channels. */
  stepped(...channels: StateChannel[]): void {
    this.#step += 1;
    for (const channel of channels) this.#changed.add(channel);
  }

  /**
   * Writes the state as the thread's newest checkpoint (nothing when no channel changed since
   * the last write). Writes are made in order; the returned promise settles when this one is stored.
   */
  write(state: LoopState, source: 'input' | 'loop'): Promise<unknown> {
    if (this.#changed.size === 0) return this.#writing;
    const base = this.#last;
    const versions: Record<string, Version> = { ...(base?.channel_versions ?? {}) };
    let max: Version | undefined;
    for (const version of Object.values(versions)) max = newerVersion(max, version);
    const next = this.#saver.getNextVersion(max as never) as Version;
    const newVersions: Record<string, Version> = {};
    for (const channel of this.#changed) {
      versions[channel] = next;
      newVersions[channel] = next;
    }
    this.#changed.clear();
    const values: Record<string, unknown> = { ...(base?.channel_values ?? {}) };
    values.messages = state.messages;
    values.memoryContext = state.memoryContext;
    values.toolRounds = state.toolRounds;
    values.limitReached = state.limitReached;
    if (state.invalidCalls !== undefined) values.invalidCalls = state.invalidCalls;
    // A fresh id from LangGraph's own time-ordered generator (ids sort by time, newest last).
    const { id, ts } = emptyCheckpoint();
    const checkpoint: Checkpoint = { v: 4, id, ts, channel_values: values, channel_versions: versions, versions_seen: base?.versions_seen ?? {} };
    const parent: RunnableConfig = { configurable: { thread_id: this.#threadId, checkpoint_ns: this.#ns, checkpoint_id: base?.id } };
    const metadata = { source, step: this.#step, parents: {} };
    this.#last = checkpoint;
    const written = this.#writing.then(() => this.#saver.put(parent, checkpoint, metadata, newVersions));
    this.#writing = written;
    return written;
  }
}

/** Builds the loop engine; `durability` as LangGraph's: after every step (`async`, `sync`) or once at the end (`exit`). */
export function createLoopEngine(deps: EngineDeps, durability: Durability): AgentEngine {
  async function run(turn: EngineTurn, emit: StepContext['emit'], signal: AbortSignal): Promise<void> {
    const thread: RunnableConfig = { configurable: { thread_id: turn.sessionId } };
    const saved = await deps.checkpointer.getTuple(thread);
    signal.throwIfAborted();
    const stored = saved?.checkpoint.channel_values ?? {};
    const state: LoopState = {
      messages: reduceMessages((stored.messages as LoopState['messages'] | undefined) ?? [], [new HumanMessage(turn.text)]),
      memoryContext: turn.memoryContext,
      toolRounds: 0,
      limitReached: false,
      invalidCalls: stored.invalidCalls as Record<string, string> | undefined,
    };
    const checkpoints = new ThreadCheckpoints(deps.checkpointer, turn.sessionId, saved);
    const each = durability !== 'exit';
    const afterStep = async (source: 'input' | 'loop'): Promise<void> => {
      if (!each) return;
      const written = checkpoints.write(state, source);
      if (durability === 'sync') await written;
      else written.catch(() => {}); // reported by the last write, which waits for this one
    };
    const ctx: StepContext = {
      signal,
      emit,
      modelConfig: { signal },
      toolConfig: { configurable: turnConfigurable(turn) },
    };
    checkpoints.stepped('messages', 'memoryContext', 'toolRounds', 'limitReached');
    try {
      await afterStep('input');
      for (;;) {
        const answer = await callModel(deps, state, ctx);
        state.messages = reduceMessages(state.messages, answer.messages);
        state.invalidCalls = answer.invalidCalls;
        checkpoints.stepped('messages', 'invalidCalls');
        await afterStep('loop');
        if (!hasPendingCalls(state.messages)) break;
        const results = await callTools(deps, state, ctx);
        state.messages = reduceMessages(state.messages, results.messages);
        if (results.toolRounds !== undefined) state.toolRounds = results.toolRounds;
        if (results.limitReached !== undefined) state.limitReached = results.limitReached;
        checkpoints.stepped('messages', results.limitReached ? 'limitReached' : 'toolRounds');
        await afterStep('loop');
        if (state.limitReached) break;
      }
    } catch (error) {
      // As LangGraph: what the finished steps wrote is kept when the run fails or is cancelled.
      await checkpoints.write(state, 'loop').catch(() => {});
      throw error;
    }
    await checkpoints.write(state, 'loop');
  }

  return { run };
}
