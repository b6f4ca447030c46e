import type { DoneFrame, SendFrame, SessionFrame } from './frames.js';

/** A run in a joined session: one this client started with `send`, or one started elsewhere. */
export interface RunHandle {
  /** The client message id (idempotency key) of the message that started the run; `''` while unknown for a run started elsewhere. */
  readonly id: string;
  /** The session the run belongs to. */
  readonly sessionId: string;
  /** True when this client started the run with `send`. */
  readonly own: boolean;
  /** Resolves to the run id once the server acknowledged the send. */
  readonly runId: Promise<string>;
  /** Resolves with the run's `done` frame. */
  readonly done: Promise<DoneFrame>;
  /** The answer text received so far. */
  readonly text: string;
  /**
   * The run's session frames, in `seq` order, ending with `done`. A run started elsewhere yields
   * the frames from the moment iteration begins: start it in the `run` listener to get them all.
   */
  [Symbol.asyncIterator](): AsyncIterator<SessionFrame>;
  /** Asks the server to cancel the run. */
  cancel(): Promise<void>;
}

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
}

/** The client's side of a run: buffers frames for one iterator and settles `runId` and `done`. */
export class RunStream implements RunHandle {
  readonly runId: Promise<string>;
  readonly done: Promise<DoneFrame>;
  text = '';
  knownRunId: string | undefined;
  private messageId: string;
  private resolveRunId!: (id: string) => void;
  private rejectRunId!: (e: Error) => void;
  private resolveDone!: (f: DoneFrame) => void;
  private rejectDone!: (e: Error) => void;
  private queue: SessionFrame[] = [];
  private waiter: Pending<IteratorResult<SessionFrame>> | null = null;
  private finished = false;
  private failure: Error | null = null;
  /** Runs this client started buffer every frame; a run seen elsewhere only once someone iterates it. */
  private buffering: boolean;

  constructor(
    readonly sessionId: string,
    readonly frame: SendFrame | null,
    private readonly onCancel: (runId: string) => Promise<void>,
  ) {
    this.messageId = frame?.id ?? '';
    this.buffering = frame !== null;
    this.runId = new Promise((res, rej) => ((this.resolveRunId = res), (this.rejectRunId = rej)));
    this.done = new Promise((res, rej) => ((this.resolveDone = res), (this.rejectDone = rej)));
    this.runId.catch(() => {});
    this.done.catch(() => {});
  }

  get id(): string {
    return this.messageId;
  }
  get own(): boolean {
    return this.frame !== null;
  }
  get ended(): boolean {
    return this.finished;
  }

  acked(runId: string): void {
    this.knownRunId = runId;
    this.resolveRunId(runId);
  }

  push(frame: SessionFrame): void {
    if (this.finished) return;
    if (frame.type === 'user' && !this.messageId) this.messageId = frame.id;
    if (frame.type === 'token') this.text += frame.text;
    if (frame.type === 'done') {
      this.finished = true;
      this.resolveDone(frame);
    }
    if (this.waiter) {
      this.waiter.resolve({ value: frame, done: false });
      this.waiter = null;
    } else if (this.buffering) this.queue.push(frame);
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    this.rejectRunId(error);
    this.rejectDone(error);
    if (this.waiter) {
      this.waiter.reject(error);
      this.waiter = null;
    }
  }

  async cancel(): Promise<void> {
    await this.onCancel(await this.runId);
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionFrame> {
    this.buffering = true;
    return {
      next: () => {
        const frame = this.queue.shift();
        if (frame) return Promise.resolve({ value: frame, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
    };
  }
}
