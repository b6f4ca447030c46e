/**
 * Events yielded by `agent.stream()`. A discriminated union on `type`; the gateway maps each
 * event onto one wire frame. Every stream ends with exactly one `done` event.
 */

/** Event type tags. */
export const AgentEventType = {
  Token: 'token',
  ToolStart: 'tool-start',
  ToolEnd: 'tool-end',
  Error: 'error',
  Done: 'done',
  ModelStart: 'model-start',
} as const;

export type AgentEventType = (typeof AgentEventType)[keyof typeof AgentEventType];

/** Why a run ended. */
export const DoneReason = {
  /** The model finished its answer. */
  Stop: 'stop',
  /** The caller's AbortSignal fired. */
  Cancelled: 'cancelled',
  /** The run hit the tool-round cap. */
  Length: 'length',
  /** The run failed; an `error` event precedes this `done`. */
  Error: 'error',
} as const;

export type DoneReason = (typeof DoneReason)[keyof typeof DoneReason];

/** Token counts of one run (from the provider where it reports them, else estimated). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** What the run cost in US dollars (set by the caller's cost control, not by the agent). */
  costUsd?: number;
  /** The answer came from a cache (set by the caller's cost control). */
  cached?: boolean;
}

/** A piece of the answer text. */
export interface TokenEvent {
  type: 'token';
  text: string;
}

/** A tool call is about to run. `input` is the arguments as the model sent them. */
export interface ToolStartEvent {
  type: 'tool-start';
  callId: string;
  name: string;
  input: unknown;
}

/** A tool call finished: `output` on success, `error` on failure (the model sees the error too). */
export interface ToolEndEvent {
  type: 'tool-end';
  callId: string;
  name: string;
  output?: string;
  error?: string;
}

/** The run failed. `code` is a stable protocol error code, e.g. `model_unavailable`. */
export interface ErrorEvent {
  type: 'error';
  code: string;
  message: string;
  retryable: boolean;
  /** When trying again can succeed (a limit), in ms. */
  retryAfterMs?: number;
}

/**
 * A model call committed to a model (its first token or tool call arrived): the model's
 * configured name, so a caller can price the answer while it streams. Only from the model chain.
 */
export interface ModelStartEvent {
  type: 'model-start';
  model: string;
}

/** The run ended. Always the last event, exactly once. */
export interface DoneEvent {
  type: 'done';
  reason: DoneReason;
  usage?: TokenUsage;
  /** The model that produced the last answer, e.g. `local` or `gpt-4o-mini`. */
  model?: string;
  /** The model tier the run was routed to (set by the caller's router, not by the agent). */
  tier?: string;
  error?: { code: string; message: string };
}

export type AgentEvent = TokenEvent | ToolStartEvent | ToolEndEvent | ErrorEvent | DoneEvent | ModelStartEvent;
