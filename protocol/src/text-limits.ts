import { DEFAULT_MAX_FRAME_BYTES, Limits } from './codes.js';
import type { ReadyFrame } from './frames.js';

/** The server's limits from `ready` (the protocol defaults before it arrives). */
export type TextLimits = ReadyFrame['limits'];
export const DEFAULT_TEXT_LIMITS: TextLimits = { maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxTextChars: Limits.maxTextChars };

/** UTF-8 length of a string without allocating its encoding. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes the `send` frame adds around the text, with room for a long id and `ifBusy`. */
const FRAME_OVERHEAD_BYTES = 512;

/**
 * Why a message text cannot be sent under `limits`, or `null` when it can: empty after trimming,
 * more characters than `maxTextChars`, or a frame larger than `maxFrameBytes` once encoded as
 * UTF-8 (25,000 "€" are 75,000 bytes). `frameBytes` is the exact encoded frame size when known.
 * @example
 * const problem = textProblem(input.value, client.limits);
 * sendButton.disabled = problem !== null;
 */
export function textProblem(text: string, limits: TextLimits = DEFAULT_TEXT_LIMITS, frameBytes?: number): string | null {
  const trimmed = text.trim();
  if (!trimmed) return 'the message is empty';
  if (trimmed.length > limits.maxTextChars) {
    return `the message has ${trimmed.length} characters; the server accepts at most ${limits.maxTextChars}`;
  }
  const bytes = frameBytes ?? utf8Length(JSON.stringify(text)) + FRAME_OVERHEAD_BYTES;
  if (bytes > limits.maxFrameBytes) {
    const textBytes = utf8Length(text);
    return `the message is ${textBytes} bytes as UTF-8; the server accepts frames of at most ${limits.maxFrameBytes} bytes`;
  }
  return null;
}
