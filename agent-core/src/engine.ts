import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { RunSignal, StepDeps } from './steps.js';

/** The engines that can run an agent's turns: the plain loop or LangGraph's StateGraph. */
export const AGENT_ENGINES = ['loop', 'langgraph'] as const;
export type AgentEngineName = (typeof AGENT_ENGINES)[number];

/** When an engine checkpoints the thread (as LangGraph's `durability`): after every step (`async`, `sync`) or once at the end (`exit`). */
export type Durability = 'async' | 'sync' | 'exit';

/** What an engine is built on: the steps' dependencies and the thread's checkpoint saver. */
export interface EngineDeps extends StepDeps {
  checkpointer: BaseCheckpointSaver;
}

/** One turn as an engine gets it. */
export interface EngineTurn {
  sessionId: string;
  userId: string;
  runId: string;
  text: string;
  /** Recalled long-term memories, rendered into the system prompt. */
  memoryContext: string;
}

/** The caller's keys a turn's tools (and LangGraph's nodes) see in `configurable`. */
export function turnConfigurable(turn: EngineTurn): Record<string, string> {
  return { thread_id: turn.sessionId, sessionId: turn.sessionId, userId: turn.userId, runId: turn.runId };
}

/**
 * What an engine must do: run one turn on the thread `turn.sessionId` (load its checkpointed
 * state, add the user's message, model ⇄ tools until an answer without tool calls or the round
 * cap, checkpoint the result in LangGraph's format), reporting through `emit` synchronously.
 * Resolves once the thread's state is stored; rejects on failure or when `signal` aborts.
 */
export interface AgentEngine {
  run(turn: EngineTurn, emit: (signal: RunSignal) => void, signal: AbortSignal): Promise<void>;
}
