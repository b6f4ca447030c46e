/** Stable error codes carried by `error` frames and HTTP error bodies. */
export const ErrorCode = {
  badFrame: 'bad_frame',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  busy: 'busy',
  rateLimited: 'rate_limited',
  quotaExceeded: 'quota_exceeded',
  tooLarge: 'too_large',
  modelUnavailable: 'model_unavailable',
  toolFailed: 'tool_failed',
  resumeExpired: 'resume_expired',
  replayGap: 'replay_gap',
  conflict: 'conflict',
  nodeLost: 'node_lost',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes used by the gateway. */
export const CloseCode = {
  normal: 1000,
  tooBig: 1009,
  restart: 1012,
  unauthorized: 4001,
  protocolAbuse: 4002,
  forbidden: 4003,
  rateLimited: 4008,
  slowConsumer: 4009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The WebSocket subprotocol of wire protocol v1. */
export const SUBPROTOCOL = 'switchboard.v1';
/** The WebSocket path of wire protocol v1. */
export const WS_PATH = '/v1/ws';

/** How a `send` behaves while the session already has a run. */
export const IfBusy = { reject: 'reject', interrupt: 'interrupt', enqueue: 'enqueue' } as const;
export type IfBusy = (typeof IfBusy)[keyof typeof IfBusy];

/** Why a run ended. */
export const DoneReason = {
  stop: 'stop',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
  length: 'length',
  error: 'error',
} as const;
export type DoneReason = (typeof DoneReason)[keyof typeof DoneReason];

/** Protocol limits shared by client and server. */
export const Limits = {
  /** Longest chat message text in characters. */
  maxTextChars: 32_000,
  /** Longest identifier (session id, run id, client message id). */
  maxIdChars: 128,
  /** Longest token (access or resume). */
  maxTokenChars: 8_192,
  /** Most sessions named in one resume. */
  maxResumeSessions: 64,
} as const;

/** Default largest inbound frame in bytes (64 KiB). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
