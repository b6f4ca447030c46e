/**
 * How a run's agent events become protocol frames: tokens and tool calls become session frames
 * (written to the log, `seq` assigned there), an agent `error` becomes an `error` frame to the
 * sender, and the run's end becomes exactly one `done`.
 */
import type { AgentEvent } from '@switchboard/agent-core';
import type { DoneFrame, ErrorFrame, SessionFrameInput } from '@switchboard/protocol';

/** Why a local run was aborted; becomes `done.reason`. */
export type AbortReason = 'cancelled' | 'interrupted';

/** The ids every frame of a run carries. */
export interface RunIds {
  sessionId: string;
  runId: string;
}

type EventOf<T extends AgentEvent['type']> = Extract<AgentEvent, { type: T }>;
/** A `done` before the log gives it its `seq`. */
export type PendingDone = Omit<DoneFrame, 'seq'>;

/** The reason the run's signal was aborted with, if it was. */
export function abortReason(signal: AbortSignal): AbortReason | undefined {
  return signal.aborted ? (signal.reason as AbortReason) : undefined;
}

/** Per token: the fields written out (same order as the spread of `base` would give), no spread. */
export function tokenFrame(base: RunIds, event: EventOf<'token'>): SessionFrameInput {
  return { type: 'token', sessionId: base.sessionId, runId: base.runId, text: event.text };
}

export function toolStartFrame(base: RunIds, event: EventOf<'tool-start'>): SessionFrameInput {
  return { type: 'tool', ...base, callId: event.callId, name: event.name, phase: 'start', input: event.input };
}

export function toolEndFrame(base: RunIds, event: EventOf<'tool-end'>): SessionFrameInput {
  return { type: 'tool', ...base, callId: event.callId, name: event.name, phase: 'end', output: event.output, error: event.error };
}

/** An agent `error` event, as the `error` frame sent to the connection that started the run (`ref` = its send id). */
export function agentErrorFrame(base: RunIds, event: EventOf<'error'>, ref: string): ErrorFrame {
  const frame: ErrorFrame = { type: 'error', code: (event.code as ErrorFrame['code']) ?? 'internal', message: event.message, retryable: event.retryable, ref, ...base };
  if (event.retryAfterMs !== undefined) frame.retryAfterMs = event.retryAfterMs;
  return frame;
}

/** The agent's `done`; a run aborted by cancel or interrupt reports why it was aborted. */
export function doneFrame(base: RunIds, event: EventOf<'done'>, aborted: AbortReason | undefined): PendingDone {
  return {
    type: 'done',
    ...base,
    reason: event.reason === 'cancelled' && aborted ? aborted : event.reason,
    usage: event.usage,
    model: event.model,
    ...(event.tier === undefined ? {} : { tier: event.tier }),
    error: event.error,
  };
}

/** The `done` of a run whose stream threw. */
export function failedDone(base: RunIds): PendingDone {
  return { type: 'done', ...base, reason: 'error', error: { code: 'internal', message: 'the run failed' } };
}

/** The `done` of a run whose stream ended without one. */
export function endedWithoutDone(base: RunIds, aborted: AbortReason | undefined): PendingDone {
  return aborted
    ? { type: 'done', ...base, reason: aborted }
    : { type: 'done', ...base, reason: 'error', error: { code: 'internal', message: 'the agent ended without done' } };
}
