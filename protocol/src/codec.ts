import type { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES, ErrorCode } from './codes.js';
import { ClientFrame, ServerFrame } from './frames.js';

export { DEFAULT_MAX_FRAME_BYTES };

/** The outcome of parsing one inbound frame. */
export type ParseResult<T> =
  | { ok: true; frame: T }
  | { ok: false; code: typeof ErrorCode.badFrame | typeof ErrorCode.tooLarge; message: string; ref?: string };


function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid frame';
  const path = issue.path.length ? issue.path.join('.') : 'frame';
  return `${path}: ${issue.message}`;
}

const encoder = new TextEncoder();

/** UTF-8 size check without encoding when the string cannot be too large (3 bytes per UTF-16 unit at most). */
function tooLarge(raw: string, maxBytes: number): boolean {
  if (raw.length > maxBytes) return true;
  return raw.length * 3 > maxBytes && encoder.encode(raw).length > maxBytes;
}

function parseWith<T>(schema: z.ZodType<T>, raw: string, maxBytes: number): ParseResult<T> {
  if (tooLarge(raw, maxBytes)) {
    return { ok: false, code: ErrorCode.tooLarge, message: `frame exceeds ${maxBytes} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, code: ErrorCode.badFrame, message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: ErrorCode.badFrame, message: 'frame must be a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  const ref = typeof obj.id === 'string' ? obj.id.slice(0, 128) : undefined;
  if (typeof obj.type !== 'string') return { ok: false, code: ErrorCode.badFrame, message: 'frame has no type', ref };
  const result = schema.safeParse(value);
  if (!result.success) {
    const unknownType = result.error.issues.some((i) => i.code === 'invalid_union' && i.path.length <= 1 && (i.path[0] ?? 'type') === 'type');
    const message = unknownType ? `unknown frame type "${String(obj.type).slice(0, 32)}"` : describe(result.error);
    // A text over its limit is a size problem the client can fix by splitting: `too_large`.
    const textTooBig = result.error.issues.some((i) => i.code === 'too_big' && i.path[0] === 'text');
    return { ok: false, code: textTooBig ? ErrorCode.tooLarge : ErrorCode.badFrame, message, ref };
  }
  return { ok: true, frame: result.data };
}

/**
 * Parses a frame sent by a client. Never throws.
 * @example
 * const r = parseClientFrame('{"type":"ping"}');
 * if (r.ok) handle(r.frame);
 */
export function parseClientFrame(raw: string, maxBytes = DEFAULT_MAX_FRAME_BYTES): ParseResult<ClientFrame> {
  return parseWith(ClientFrame, raw, maxBytes);
}

/** Parses a frame sent by the server (used by clients and tests). Never throws. */
export function parseServerFrame(raw: string, maxBytes = 16 * 1024 * 1024): ParseResult<ServerFrame> {
  return parseWith(ServerFrame, raw, maxBytes);
}

/** Encodes a frame as one JSON text message. */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}
