/**
 * The write side of one run's stream: frames wait in a queue while the previous batch is being
 * appended, and go to the log together in one step. Tokens that waited become one `token` frame
 * (their texts concatenated), so a slow log costs fewer, larger frames instead of a growing
 * backlog, and there is at most one awaited append per batch of tokens. Frames keep their order;
 * `seq` is assigned per frame by the log, so replay returns exactly the frames sent live.
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
  /** Told at once when a write fails (a run whose lease was taken over stops without waiting for its next frame). */
  onFailure?(error: unknown): void;
}

export class FrameWriter {
  private queue: SessionFrameInput[] = [];
  private writing: Promise<void> | null = null;
  private failure: unknown = null;
  private lastTokenAt = -Infinity;
  /** The token frame this writer made by merging (its own to extend); callers' frames are never changed. */
  private merged: SessionFrameInput | null = null;
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
    } else queue.push(frame);
    this.writing ??= this.drain();
  }

  /** Waits until every queued frame is written; throws if a write failed. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        if (this.o.coalesceMs > 0 && this.queue.some((f) => f.type === 'token')) {
          const wait = this.lastTokenAt + this.o.coalesceMs - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const batch = this.queue;
        this.merged = null;
        this.queue = [];
        if (batch.some((f) => f.type === 'token')) this.lastTokenAt = performance.now();
        const written = await this.o.append(batch);
        this.lastSeq = written[written.length - 1]?.seq ?? this.lastSeq;
      }
    } catch (e) {
      this.failure = e;
      this.queue = [];
      this.o.onFailure?.(e);
    } finally {
      this.writing = null;
    }
  }
}
