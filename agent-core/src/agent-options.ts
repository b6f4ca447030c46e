import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { AgentEngineName, Durability } from './engine.js';
import type { ModelChainEventListener } from './models/events.js';

/** What a memory hook gets after a successful turn. */
export interface AfterTurnInput {
  userId: string;
  sessionId: string;
  userText: string;
  answer: string;
}

/** Long-term memory hooks of the agent (implemented elsewhere; the agent only calls them). */
export interface AgentMemory {
  /**
   * Memories relevant to `query` for `userId`; they go into the system prompt before the turn.
   * `signal` fires when the run is cancelled or the recall time limit passes.
   */
  recall(userId: string, query: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * Called fire-and-forget after a turn that ended with `stop`. Whatever it returns is ignored;
   * a returned promise that rejects is logged, never awaited.
   */
  afterTurn?(input: AfterTurnInput): void;
}

/** Where the agent reports problems it recovers from (a winston logger fits). */
export interface AgentLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** Options of {@link createAgent}. */
export interface AgentOptions {
  /** Any LangChain chat model that supports `bindTools` and streaming. */
  model: BaseChatModel;
  /**
   * Where conversation state is checkpointed, keyed by `thread_id` = session id.
   * @default new MemorySaver()
   */
  checkpointer?: BaseCheckpointSaver;
  /**
   * Extra tools, appended to the built-in `calculator` and `clock`. Names must be unique.
   * @default []
   */
  tools?: StructuredToolInterface[];
  /**
   * Wraps every tool (built-in and extra) once, when the agent is created: e.g. a result cache
   * for pure tools. The wrapper must keep the tool's name and schema.
   * @default none
   */
  wrapTool?: (tool: StructuredToolInterface) => StructuredToolInterface;
  /**
   * Token budget of what is sent to the model (system prompt + trimmed history).
   * @default 8000
   */
  maxContextTokens?: number;
  /**
   * Rounds of tool calls per run; a model that asks for more ends the run with `done{reason:'length'}`.
   * @default 6
   */
  maxToolRounds?: number;
  /**
   * Time limit of one tool call, in milliseconds.
   * @default 15000
   */
  toolTimeoutMs?: number;
  /**
   * Longest tool output handed back to the model, in characters.
   * @default 4000
   */
  maxToolOutputChars?: number;
  /**
   * System prompt template with `{{memories}}` and `{{now}}` placeholders.
   * @default the contents of prompts/system.md
   */
  systemPrompt?: string;
  /**
   * Long-term memory hooks.
   * @default undefined (no memory)
   */
  memory?: AgentMemory;
  /**
   * Time limit for `memory.recall`; on timeout or error the turn runs without memories.
   * @default 2000
   */
  recallTimeoutMs?: number;
  /**
   * Receives warnings about recovered problems (memory hook failures).
   * @default a no-op
   */
  logger?: AgentLogger;
  /**
   * When conversation state is checkpointed: after every step (`async`, `sync`) or once when the
   * run ends (`exit`: fewest writes, but a run cut off by a dying process leaves no trace in the
   * history).
   * @default 'async'
   */
  durability?: Durability;
  /**
   * What runs a turn: `loop`, a plain async loop over the model and tool steps, or `langgraph`,
   * a LangGraph StateGraph. Both read and write the same checkpoints, so a thread written by one
   * is continued by the other.
   * @default 'loop'
   */
  engine?: AgentEngineName;
  /**
   * Clock for the `{{now}}` placeholder.
   * @default () => new Date()
   */
  now?: () => Date;
}

/** Input of one run. */
export interface AgentStreamInput {
  /** Conversation id; the checkpoint thread. */
  sessionId: string;
  /** Owner of the conversation; passed to tools as `configurable.userId`. */
  userId: string;
  /** Id of this run (for tracing; passed to tools as `configurable.runId`). */
  runId: string;
  /** The user's message. */
  text: string;
  /** Cancels the run: the model request and running tools are aborted, then `done{reason:'cancelled'}`. */
  signal?: AbortSignal;
  /**
   * Receives the model chain's events of this run's requests, synchronously (the chain's own
   * `onEvent` gets them too): how a caller ties them to the run without an async context.
   */
  onModelEvent?: ModelChainEventListener;
}

export const AGENT_DEFAULTS = {
  maxContextTokens: 8000,
  maxToolRounds: 6,
  toolTimeoutMs: 15_000,
  maxToolOutputChars: 4000,
  recallTimeoutMs: 2000,
} satisfies Partial<AgentOptions>;
