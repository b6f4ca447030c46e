import type { DoneFrame, SessionFrame } from './frames.js';

/** A tool call inside an assistant message. */
export interface ToolCall {
  callId: string;
  name: string;
  input?: unknown;
  output?: string;
  error?: string;
  status: 'running' | 'done' | 'failed';
}

/** A user turn: `pending` until the server echoed it as a `user` frame. */
export interface UserMessage {
  role: 'user';
  /** The client message id (the `send` id). */
  id: string;
  runId: string | null;
  text: string;
  pending: boolean;
}

/** An assistant turn: one run's answer. */
export interface AssistantMessage {
  role: 'assistant';
  /** The run id. */
  id: string;
  text: string;
  toolCalls: ToolCall[];
  status: 'streaming' | 'done';
  reason?: DoneFrame['reason'];
  /** Why a run failed (`done.error`), e.g. every model in the chain refused. */
  error?: { code: string; message: string };
  model?: string;
}

export type ChatMessage = UserMessage | AssistantMessage;

/** The state of one session as a chat UI needs it; rebuilt from session frames alone. */
export interface ChatState {
  sessionId: string;
  messages: ChatMessage[];
  /** The run streaming now (started here, in another tab or on another device), or `null`. */
  activeRunId: string | null;
  /** The highest `seq` folded into `messages`. */
  lastSeq: number;
  /** The log no longer held frames this state needed: older messages are missing (fetch them over HTTP). */
  gap: boolean;
}

export function emptyChat(sessionId: string): ChatState {
  return { sessionId, messages: [], activeRunId: null, lastSeq: 0, gap: false };
}

function assistantIndex(messages: ChatMessage[], runId: string): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.id === runId) return i;
  }
  return -1;
}

function withAssistant(messages: ChatMessage[], runId: string, update: (m: AssistantMessage) => AssistantMessage): ChatMessage[] {
  const i = assistantIndex(messages, runId);
  const next = messages.slice();
  // A run that began before the first frame this state saw (joined mid-answer) gets its message now.
  if (i < 0) next.push(update({ role: 'assistant', id: runId, text: '', toolCalls: [], status: 'streaming' }));
  else next[i] = update(messages[i] as AssistantMessage);
  return next;
}

/**
 * Folds one session frame into the chat state (pure; frames at or below `lastSeq` are ignored,
 * so a replay never duplicates text).
 * @example
 * let state = emptyChat(sessionId);
 * for (const f of frames) state = reduceChat(state, f);
 */
export function reduceChat(state: ChatState, frame: SessionFrame): ChatState {
  if (frame.sessionId !== state.sessionId || frame.seq <= state.lastSeq) return state;
  const base = { ...state, lastSeq: frame.seq };
  switch (frame.type) {
    case 'user': {
      const messages = state.messages.filter((m) => !(m.role === 'user' && m.id === frame.id));
      const at = state.messages.findIndex((m) => m.role === 'user' && m.id === frame.id);
      const user: UserMessage = { role: 'user', id: frame.id, runId: frame.runId, text: frame.text, pending: false };
      if (at >= 0) messages.splice(at, 0, user);
      else messages.push(user);
      const withAnswer = assistantIndex(messages, frame.runId) >= 0 ? messages : [...messages, { role: 'assistant' as const, id: frame.runId, text: '', toolCalls: [], status: 'streaming' as const }];
      return { ...base, messages: withAnswer, activeRunId: frame.runId };
    }
    case 'token':
      return { ...base, activeRunId: frame.runId, messages: withAssistant(state.messages, frame.runId, (m) => ({ ...m, text: m.text + frame.text })) };
    case 'tool':
      return {
        ...base,
        activeRunId: frame.runId,
        messages: withAssistant(state.messages, frame.runId, (m) => {
          const calls = m.toolCalls.slice();
          const i = calls.findIndex((c) => c.callId === frame.callId);
          const prev: ToolCall = i >= 0 ? calls[i]! : { callId: frame.callId, name: frame.name, status: 'running' };
          const call: ToolCall =
            frame.phase === 'start'
              ? { ...prev, input: frame.input, status: 'running' }
              : { ...prev, output: frame.output, error: frame.error, status: frame.error ? 'failed' : 'done' };
          if (i >= 0) calls[i] = call;
          else calls.push(call);
          return { ...m, toolCalls: calls };
        }),
      };
    case 'done':
      return {
        ...base,
        activeRunId: state.activeRunId === frame.runId ? null : state.activeRunId,
        messages: withAssistant(state.messages, frame.runId, (m) => ({
          ...m,
          status: 'done',
          reason: frame.reason,
          error: frame.error,
          model: frame.model,
          toolCalls: m.toolCalls.map((c) => (c.status === 'running' ? { ...c, status: 'failed' as const } : c)),
        })),
      };
  }
}

/** Adds the user's message before the server echoes it (replaced by the `user` frame with the same id). */
export function addPendingUser(state: ChatState, id: string, text: string): ChatState {
  return { ...state, messages: [...state.messages, { role: 'user', id, runId: null, text, pending: true }] };
}

/** Removes a pending user message whose send failed. */
export function dropPendingUser(state: ChatState, id: string): ChatState {
  return { ...state, messages: state.messages.filter((m) => !(m.role === 'user' && m.pending && m.id === id)) };
}

export function isChatState(v: unknown): v is ChatState {
  const o = v as ChatState | null;
  return typeof o === 'object' && o !== null && typeof o.sessionId === 'string' && Array.isArray(o.messages) && Number.isInteger(o.lastSeq);
}

/** A transcript row as `GET /v1/sessions/:id/messages` returns it (the fields a chat needs). */
export interface HistoryRow {
  runId: string;
  role: string;
  content: string;
  clientMessageId?: string | null;
}

const runOf = (m: ChatMessage): string | null => (m.role === 'user' ? m.runId : m.id);

/**
 * Folds the stored transcript into a chat whose frames had a gap (the session's log was lost or
 * trimmed): every run the transcript holds takes its stored user text and answer (an answer is
 * stored when its run ended, so that run is no longer streaming); what the frames gave beyond the
 * transcript (tool calls, model, reason, the live run, runs it does not hold yet) stays. Each run
 * appears once.
 */
export function mergeHistory(state: ChatState, rows: readonly HistoryRow[]): ChatState {
  const byRun = new Map<string, { user?: HistoryRow; answer?: HistoryRow }>();
  for (const row of rows) {
    if (row.role !== 'user' && row.role !== 'assistant') continue;
    const entry = byRun.get(row.runId) ?? {};
    if (row.role === 'user') entry.user = row;
    else entry.answer = entry.answer ? { ...entry.answer, content: entry.answer.content + row.content } : row;
    byRun.set(row.runId, entry);
  }
  if (byRun.size === 0) return { ...state, gap: false };
  const firstKnown = state.messages.findIndex((m) => byRun.has(runOf(m) ?? ''));
  const split = Math.max(0, firstKnown);
  const before = state.messages.slice(0, split).filter((m) => !byRun.has(runOf(m) ?? ''));
  const after = state.messages.slice(split).filter((m) => !byRun.has(runOf(m) ?? ''));
  const merged: ChatMessage[] = [];
  for (const [runId, { user, answer }] of byRun) {
    const seenUser = state.messages.find((m): m is UserMessage => m.role === 'user' && m.runId === runId);
    if (user) merged.push({ role: 'user', id: user.clientMessageId ?? seenUser?.id ?? runId, runId, text: user.content, pending: false });
    else if (seenUser) merged.push(seenUser);
    const seen = state.messages.find((m): m is AssistantMessage => m.role === 'assistant' && m.id === runId);
    // A stored answer means the run ended (it is written at `done`, or by the node that reaped it).
    if (answer) merged.push({ ...(seen ?? { role: 'assistant', id: runId, toolCalls: [] }), text: answer.content, status: 'done' });
    else if (seen) merged.push(seen);
  }
  const activeRunId = state.activeRunId && byRun.get(state.activeRunId)?.answer ? null : state.activeRunId;
  return { ...state, messages: [...before, ...merged, ...after], activeRunId, gap: false };
}
