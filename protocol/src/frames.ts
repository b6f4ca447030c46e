import { z } from 'zod';
import { DoneReason, ErrorCode, IfBusy, Limits } from './codes.js';

export { Limits };


const id = z.string().min(1).max(Limits.maxIdChars);
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const token = z.string().min(1).max(Limits.maxTokenChars);
/** A session log's epoch: changes when the log was recreated (its frames and counter lost). */
const epoch = z.string().max(64);
/** U+0000 has no place in chat text, and Postgres cannot store it in a text column. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching U+0000 is the point of this pattern
export const NO_NUL = /^[^\u0000]*$/;
/** A chat message text: trimmed, not empty, within `maxTextChars`, without U+0000. */
export const chatText = z.string().trim().min(1, 'text is empty').max(Limits.maxTextChars).regex(NO_NUL, 'text must not contain U+0000');

// ---------------------------------------------------------------- client → server

export const HelloFrame = z.object({
  type: z.literal('hello'),
  token: token.optional(),
  resume: z
    .object({
      token,
      after: z
        .record(id, seq)
        .refine((r) => Object.keys(r).length <= Limits.maxResumeSessions, 'too many sessions')
        .optional(),
      /** The epoch each `after` belongs to (from `joined.epoch`). */
      epochs: z
        .record(id, epoch)
        .refine((r) => Object.keys(r).length <= Limits.maxResumeSessions, 'too many sessions')
        .optional(),
    })
    .optional(),
  client: z
    .object({ name: z.string().max(64).optional(), version: z.string().max(32).optional() })
    .optional(),
});
export const JoinFrame = z.object({ type: z.literal('join'), sessionId: id, after: seq.optional(), epoch: epoch.optional() });
export const LeaveFrame = z.object({ type: z.literal('leave'), sessionId: id });
export const SendFrame = z.object({
  type: z.literal('send'),
  id,
  sessionId: id,
  text: chatText,
  ifBusy: z.enum([IfBusy.reject, IfBusy.interrupt, IfBusy.enqueue]).optional(),
  /** A model tier asked for (e.g. `fast`, `smart`); honoured only where the deployment allows client hints. */
  tier: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'tier must be a tier name like "fast"').optional(),
});
export const CancelFrame = z.object({ type: z.literal('cancel'), sessionId: id, runId: id });
export const PingFrame = z.object({ type: z.literal('ping'), t: z.number().finite().optional() });

export const ClientFrame = z.discriminatedUnion('type', [
  HelloFrame,
  JoinFrame,
  LeaveFrame,
  SendFrame,
  CancelFrame,
  PingFrame,
]);
export type HelloFrame = z.infer<typeof HelloFrame>;
export type JoinFrame = z.infer<typeof JoinFrame>;
export type LeaveFrame = z.infer<typeof LeaveFrame>;
export type SendFrame = z.infer<typeof SendFrame>;
export type CancelFrame = z.infer<typeof CancelFrame>;
export type PingFrame = z.infer<typeof PingFrame>;
export type ClientFrame = z.infer<typeof ClientFrame>;
export const CLIENT_FRAME_TYPES = ['hello', 'join', 'leave', 'send', 'cancel', 'ping'] as const;

// ---------------------------------------------------------------- server → client

const errorCode = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);
const usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  /** What the run's model calls cost, in US dollars (0 for a cache hit or an unpriced model). */
  costUsd: z.number().nonnegative().optional(),
  /** True when the answer came from a cache (no model call). */
  cached: z.boolean().optional(),
});

export const ReadyFrame = z.object({
  type: z.literal('ready'),
  connectionId: z.string(),
  userId: z.string(),
  resume: z.string(),
  resumed: z.boolean(),
  heartbeatMs: z.number().int(),
  /** `maxTextBytes` (UTF-8 bytes of a `send.text`) is sent by servers since it was added. */
  limits: z.object({ maxFrameBytes: z.number().int(), maxTextChars: z.number().int(), maxTextBytes: z.number().int().optional() }),
  node: z.string(),
});
export const JoinedFrame = z.object({
  type: z.literal('joined'),
  sessionId: id,
  seq,
  /** The log's epoch ('' while nothing was written); another epoch than the client's comes with `gap:true`. */
  epoch: epoch.optional(),
  replayed: z.number().int().nonnegative(),
  gap: z.boolean(),
  activeRunId: id.optional(),
});
export const AckFrame = z.object({ type: z.literal('ack'), id, sessionId: id, runId: id });

const sessionBase = { sessionId: id, runId: id, seq: seq.min(1) };
export const UserFrame = z.object({ type: z.literal('user'), ...sessionBase, id, text: z.string() });
export const TokenFrame = z.object({ type: z.literal('token'), ...sessionBase, text: z.string() });
export const ToolFrame = z.object({
  type: z.literal('tool'),
  ...sessionBase,
  callId: z.string(),
  name: z.string(),
  phase: z.enum(['start', 'end']),
  input: z.unknown().optional(),
  output: z.string().optional(),
  error: z.string().optional(),
});
export const DoneFrame = z.object({
  type: z.literal('done'),
  ...sessionBase,
  reason: z.enum([
    DoneReason.stop,
    DoneReason.cancelled,
    DoneReason.interrupted,
    DoneReason.length,
    DoneReason.error,
  ]),
  usage: usage.optional(),
  model: z.string().optional(),
  /** The model tier the run was routed to (when the deployment has tiers). */
  tier: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** The run's trace id (when tracing is on), so feedback and eval scores can attach to it. */
  traceId: z.string().max(64).optional(),
});
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: errorCode,
  message: z.string(),
  retryable: z.boolean(),
  ref: z.string().optional(),
  sessionId: z.string().optional(),
  runId: z.string().optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export const PongFrame = z.object({ type: z.literal('pong'), t: z.number().optional() });
export const GoawayFrame = z.object({
  type: z.literal('goaway'),
  reason: z.string(),
  reconnectInMs: z.number().int().nonnegative(),
});

export const SessionFrame = z.discriminatedUnion('type', [UserFrame, TokenFrame, ToolFrame, DoneFrame]);
export const ServerFrame = z.discriminatedUnion('type', [
  ReadyFrame,
  JoinedFrame,
  AckFrame,
  UserFrame,
  TokenFrame,
  ToolFrame,
  DoneFrame,
  ErrorFrame,
  PongFrame,
  GoawayFrame,
]);
export type ReadyFrame = z.infer<typeof ReadyFrame>;
export type JoinedFrame = z.infer<typeof JoinedFrame>;
export type AckFrame = z.infer<typeof AckFrame>;
export type UserFrame = z.infer<typeof UserFrame>;
export type TokenFrame = z.infer<typeof TokenFrame>;
export type ToolFrame = z.infer<typeof ToolFrame>;
export type DoneFrame = z.infer<typeof DoneFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type PongFrame = z.infer<typeof PongFrame>;
export type GoawayFrame = z.infer<typeof GoawayFrame>;
export type SessionFrame = z.infer<typeof SessionFrame>;
export type ServerFrame = z.infer<typeof ServerFrame>;
/** A session frame before the log gave it a `seq`. */
export type SessionFrameInput = SessionFrame extends infer F ? (F extends SessionFrame ? Omit<F, 'seq'> : never) : never;
export const SESSION_FRAME_TYPES = ['user', 'token', 'tool', 'done'] as const;
export const SERVER_FRAME_TYPES = ['ready', 'joined', 'ack', 'user', 'token', 'tool', 'done', 'error', 'pong', 'goaway'] as const;
