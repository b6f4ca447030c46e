/**
 * The run's hand-over from the graph's nodes to `agent.stream()`: nodes push synchronously
 * (the writer), the agent takes what is there without awaiting and waits only when the queue
 * is empty. One promise per wait, not per token; no web streams.
 */
export class SignalQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  /** Adds an item (a no-op once closed). Bound, so it can be handed out as a writer. */
  readonly push = (item: T): void => {
    if (this.closed) return;
    this.items.push(item);
    this.notify();
  };

  /** No more items; `error` is rethrown by `take` once the queue is drained. */
  close(error?: { error: unknown }): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    this.notify();
  }

  /** The next item, or `undefined` when none is waiting (then `wait`, or stop if `done`). */
  take(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items.length = 0; // the same array again: no new one each time the queue runs dry
      this.head = 0;
    }
    return item;
  }

  /** Closed and drained; throws the close error if there was one. */
  get done(): boolean {
    if (this.head < this.items.length || !this.closed) return false;
    if (this.failure) throw this.failure.error;
    return true;
  }

  /** Resolves when an item arrives or the queue closes. */
  wait(): Promise<void> {
    if (this.head < this.items.length || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake();
    }
  }
}
