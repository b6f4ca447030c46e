/**
 * Per-frame counters on the hot path: plain numbers in typed arrays, read by observable
 * instruments at scrape time. Counting a delivery is an index lookup and two additions; no
 * attribute object, string or closure is made per frame.
 */

/** Frame types with their own label; anything else counts as `other`. */
export const FRAME_TYPES = [
  'token',
  'tool',
  'user',
  'done',
  'error',
  'ack',
  'ready',
  'joined',
  'pong',
  'goaway',
  'hello',
  'join',
  'leave',
  'send',
  'cancel',
  'ping',
  'invalid',
  'other',
] as const;
export type FrameTypeLabel = (typeof FRAME_TYPES)[number];

const OTHER = FRAME_TYPES.indexOf('other');
const INDEX = new Map<string, number>(FRAME_TYPES.map((t, i) => [t, i]));
/** `{"type":"token` etc.: frames are serialized with `type` first, so a prefix names the type. */
const PREFIXES = FRAME_TYPES.map((t) => `{"type":"${t}`);
/** Pre-built attribute objects, one per label value. */
export const FRAME_ATTRS: ReadonlyArray<Readonly<{ type: string }>> = FRAME_TYPES.map((type) => Object.freeze({ type }));

/** The label index of a frame type name. */
export function frameTypeIndex(type: string): number {
  return INDEX.get(type) ?? OTHER;
}

/** The label index of a serialized frame, from its prefix (no parsing, no allocation). */
export function frameTypeIndexOfJson(json: string): number {
  for (let i = 0; i < OTHER; i++) {
    const p = PREFIXES[i]!;
    // The quote after the name rules out prefixes of longer names ("join" vs "joined").
    if (json.startsWith(p) && json.charCodeAt(p.length) === 34) return i;
  }
  return OTHER;
}

/** Counts of frames and bytes per direction. */
export class FrameCounts {
  readonly framesIn = new Float64Array(FRAME_TYPES.length);
  readonly framesOut = new Float64Array(FRAME_TYPES.length);
  bytesIn = 0;
  bytesOut = 0;

  in(type: string): void {
    this.framesIn[frameTypeIndex(type)]! += 1;
  }

  out(type: string, bytes: number, deliveries = 1): void {
    this.framesOut[frameTypeIndex(type)]! += deliveries;
    this.bytesOut += bytes * deliveries;
  }

  /** One serialized frame delivered to `deliveries` sockets. */
  delivered(json: string, deliveries: number): void {
    this.framesOut[frameTypeIndexOfJson(json)]! += deliveries;
    this.bytesOut += Buffer.byteLength(json) * deliveries;
  }
}
