import type { ServerFrame, SessionFrame } from './frames.js';

// A zod-free check of inbound server frames for the client SDK. The server is trusted to speak
// the protocol (its frames are built from the zod schemas), so the client only makes sure a frame
// has the fields it relies on; the full schemas stay out of browser bundles.

type Obj = Record<string, unknown>;
const str = (v: unknown): v is string => typeof v === 'string';
const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const optStr = (v: unknown) => v === undefined || str(v);

const sessionFields = (o: Obj) => str(o.sessionId) && str(o.runId) && int(o.seq) && (o.seq as number) >= 1;

const checks: Record<ServerFrame['type'], (o: Obj) => boolean> = {
  ready: (o) =>
    str(o.connectionId) &&
    str(o.userId) &&
    str(o.resume) &&
    typeof o.resumed === 'boolean' &&
    int(o.heartbeatMs) &&
    typeof o.limits === 'object' &&
    o.limits !== null &&
    int((o.limits as Obj).maxFrameBytes) &&
    int((o.limits as Obj).maxTextChars),
  joined: (o) => str(o.sessionId) && int(o.seq) && int(o.replayed) && typeof o.gap === 'boolean' && optStr(o.activeRunId),
  ack: (o) => str(o.id) && str(o.sessionId) && str(o.runId),
  user: (o) => sessionFields(o) && str(o.id) && str(o.text),
  token: (o) => sessionFields(o) && str(o.text),
  tool: (o) => sessionFields(o) && str(o.callId) && str(o.name) && (o.phase === 'start' || o.phase === 'end'),
  done: (o) => sessionFields(o) && str(o.reason),
  error: (o) => str(o.code) && str(o.message) && typeof o.retryable === 'boolean' && optStr(o.ref) && optStr(o.sessionId),
  pong: () => true,
  goaway: (o) => str(o.reason) && int(o.reconnectInMs),
};

/**
 * Reads one server frame without the zod schemas: `null` when it is not JSON or lacks a field
 * the client relies on. Unknown frame types are `null` too (a newer server's additions are skipped).
 * @example
 * const frame = readServerFrame(event.data);
 * if (frame?.type === 'token') render(frame.text);
 */
export function readServerFrame(raw: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Obj;
  const check = str(o.type) ? checks[o.type as ServerFrame['type']] : undefined;
  return check && Object.prototype.hasOwnProperty.call(checks, o.type as string) && check(o) ? (o as ServerFrame) : null;
}

/** True for the frame types that carry a per-session `seq`. */
export function isSessionFrame(frame: ServerFrame): frame is SessionFrame {
  return frame.type === 'user' || frame.type === 'token' || frame.type === 'tool' || frame.type === 'done';
}
