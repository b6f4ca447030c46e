/**
 * The write side of one run's stream: frames wait in a queue while the previous batch is being
 * appended, and go to the log together in one step. Tokens that waited become one `token` frame
 * (their texts concatenated), so a slow log costs fewer, larger frames instead of a growing
 * backlog, and there is at most one awaited append per batch of tokens. Frames keep their order;
 * `seq` is assigned per frame by the log, so replay returns exactly the frames sent live.
 *
 * A batch costs one `then` on the append's promise: no async function, no promise of its own
 * (every token of an unhurried stream is a batch of its own).
 */
import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';

export interface FrameWriterOptions {
  /** Appends one batch of a session's frames in order (the hub's `appendBatch`). */
  append(frames: SessionFrameInput[]): Promise<SessionFrame[]>;
  /**
   * Least time between two `token` frames of the run (ms); 0 merges only the tokens that arrived
   * while the previous batch was being written.
   */
  coalesceMs: number;
  /** Told of every batch the log took, as written (with `seq`). */
  onWritten?(frames: SessionFrame[]): void;
  /** Told at once when a write fails (a run whose lease was taken over stops without waiting for its next frame). */
  onFailure?(error: unknown): void;
}

export class FrameWriter {
  private queue: SessionFrameInput[] = [];
  /** A batch is being written (or waits for `coalesceMs`). */
  private busy = false;
  private failure: unknown = null;
  private lastTokenAt = -Infinity;
  /** The token frame this writer made by merging (its own to extend); callers' frames are never changed. */
  private merged: SessionFrameInput | null = null;
  /** `flush` callers waiting for the queue to be written. */
  private idle: Array<() => void> = [];
  /** The `seq` of the last frame written (0 before any). */
  lastSeq = 0;

  constructor(private readonly o: FrameWriterOptions) {}

  /** Queues a frame; a token directly after a queued token joins it. Throws if a write has failed. */
  push(frame: SessionFrameInput): void {
    if (this.failure) throw this.failure;
    const queue = this.queue;
    const at = queue.length - 1;
    const last = at >= 0 ? queue[at] : undefined;
    // The caller's frame is queued as it is; a merge makes one new frame, then extends its own.
    if (frame.type === 'token' && last?.type === 'token') {
      if (last === this.merged) last.text += frame.text;
      else queue[at] = this.merged = { ...last, text: last.text + frame.text };
    } else if (at < 0) this.queue = [frame]; // most batches are one frame: no room for 16 more
    else queue.push(frame);
    if (!this.busy) {
      this.busy = true;
      this.next();
    }
  }

  /** Waits until every queued frame is written; throws if a write failed. */
  flush(): Promise<void> {
    if (!this.busy) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise<void>((resolve, reject) => this.idle.push(() => (this.failure ? reject(this.failure) : resolve())));
  }

  /** Writes the queue, or goes idle when it is empty. */
  private next(): void {
    if (this.queue.length === 0) return this.settle();
    if (this.o.coalesceMs > 0 && this.queue.some((f) => f.type === 'token')) {
      const wait = this.lastTokenAt + this.o.coalesceMs - performance.now();
      if (wait > 0) {
        setTimeout(this.write, wait);
        return;
      }
    }
    this.write();
  }

  private readonly write = (): void => {
    const batch = this.queue;
    this.merged = null;
    this.queue = [];
    if (batch.some((f) => f.type === 'token')) this.lastTokenAt = performance.now();
    let written: Promise<SessionFrame[]>;
    try {
      written = this.o.append(batch);
    } catch (e) {
      return this.failed(e);
    }
    written.then(this.wrote, this.failed);
  };

  private readonly wrote = (written: SessionFrame[]): void => {
    this.lastSeq = written[written.length - 1]?.seq ?? this.lastSeq;
    try {
      this.o.onWritten?.(written);
    } catch (e) {
      return this.failed(e);
    }
    this.next();
  };

  private readonly failed = (e: unknown): void => {
    this.failure = e;
    this.queue = [];
    try {
      this.o.onFailure?.(e);
    } finally {
      this.settle();
    }
  };

  private settle(): void {
    this.busy = false;
    const idle = this.idle;
    this.idle = [];
    for (const wake of idle) wake();
  }
}
