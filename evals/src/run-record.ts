/** What one case produced on one target: per turn the answer, tool calls, usage and timing. */

/** One tool call as the run reported it. */
export interface ToolRecord {
  callId: string;
  name: string;
  input: unknown;
  output?: string;
  error?: string;
}

/** One request the model received (in process on the mock only): the OpenAI-shaped messages. */
export interface ModelRequest {
  messages: Array<{ role: string; content?: unknown; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>; tool_call_id?: string }>;
  aborted: boolean;
}

/** One turn's outcome. */
export interface TurnRecord {
  text: string;
  user: string;
  session: string;
  runId: string;
  answer: string;
  tools: ToolRecord[];
  /** `done.reason`. */
  reason: string;
  usage?: { inputTokens: number; outputTokens: number };
  model?: string;
  /** Milliseconds from the start of the turn to its first token (none when no token came). */
  ttftMs?: number;
  /** `done.traceId` when the gateway sends it; else the run id stands in (see the score sink). */
  traceId?: string;
  /** Memories the agent recalled into the system prompt, best first (in process only). */
  recalled?: string[];
  /** The user's stored memories after the turn (through a gateway only: `GET /v1/me/memories`). */
  storedMemories?: string[];
  /** What the model was sent (in process on the mock only). */
  requests?: ModelRequest[];
  /** Session frames of the run, in arrival order (through a gateway only). */
  frames?: Array<Record<string, unknown> & { type: string; seq?: number }>;
  /** `error` event/frame code, when the run failed. */
  errorCode?: string;
}

/** A case's run on one target and model. `failure` is set when the target itself broke. */
export interface CaseRun {
  caseId: string;
  /** `local`, `mock` or `gateway` (a remote gateway runs whatever model it is configured with). */
  model: string;
  turns: TurnRecord[];
  failure?: string;
}

/** The tool calls of every turn of a run, in order. */
export function allToolCalls(run: CaseRun): ToolRecord[] {
  return run.turns.flatMap((t) => t.tools);
}

/** The last turn (every run has at least one). */
export function lastTurn(run: CaseRun): TurnRecord {
  return run.turns[run.turns.length - 1];
}
