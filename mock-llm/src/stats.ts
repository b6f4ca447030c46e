/**
 * What the mock received: counts per model and outcome, client disconnects, in-flight requests,
 * and a bounded log of requests (arrival time, model, body) for assertions.
 */
import { EventEmitter } from 'node:events';

/** How a request ended. `aborted` means the client disconnected before the answer was complete. */
export type MockOutcome =
  | 'ok'
  | '429'
  | '500'
  | '503'
  | 'hang'
  | 'cut'
  | 'malformed'
  | 'bad_request'
  | 'not_found'
  | 'aborted';

export type MockRoute = 'chat' | 'embeddings' | 'models' | 'other';

/** One received request. */
export interface MockRequestRecord {
  /** 1-based arrival order. */
  seq: number;
  route: MockRoute;
  /** The request's `model` field ('' when absent). */
  model: string;
  stream: boolean;
  /** Arrival time, `performance.now()` of the mock's process (ms). */
  receivedAt: number;
  /** Completion time (ms, same clock), once it ended. */
  endedAt?: number;
  outcome?: MockOutcome;
  /** The parsed JSON body (undefined when it did not parse). */
  body?: unknown;
  /** Lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>;
}

export interface MockModelStats {
  requests: number;
  inFlight: number;
  aborted: number;
  outcomes: Partial<Record<MockOutcome, number>>;
}

/** A snapshot of everything counted since start or the last `reset()`. */
export interface MockStatsSnapshot {
  requests: number;
  inFlight: number;
  /** Requests whose client disconnected before the answer was complete (hangs included). */
  aborted: number;
  byRoute: Partial<Record<MockRoute, number>>;
  outcomes: Partial<Record<MockOutcome, number>>;
  models: Record<string, MockModelStats>;
  /** The newest requests (bounded by `logLimit`), oldest first. */
  log: MockRequestRecord[];
}

export class MockStatsRecorder {
  private snapshot: MockStatsSnapshot = MockStatsRecorder.empty();
  private readonly events = new EventEmitter();
  private seq = 0;
  /** Records that arrived since the last reset (older ones only release `inFlight`). */
  private since = new WeakSet<MockRequestRecord>();

  constructor(private readonly logLimit: number) {
    this.events.setMaxListeners(0);
  }

  private static empty(): MockStatsSnapshot {
    return { requests: 0, inFlight: 0, aborted: 0, byRoute: {}, outcomes: {}, models: {}, log: [] };
  }

  get current(): MockStatsSnapshot {
    return this.snapshot;
  }

  reset(): void {
    const inFlight = this.snapshot.inFlight;
    this.snapshot = MockStatsRecorder.empty();
    this.snapshot.inFlight = inFlight;
    this.since = new WeakSet();
    this.changed();
  }

  private model(name: string): MockModelStats {
    let m = this.snapshot.models[name];
    if (!m) {
      m = { requests: 0, inFlight: 0, aborted: 0, outcomes: {} };
      this.snapshot.models[name] = m;
    }
    return m;
  }

  /** Records an arrival; returns the record to finish later. */
  begin(rec: Omit<MockRequestRecord, 'seq'>): MockRequestRecord {
    const s = this.snapshot;
    const record: MockRequestRecord = { ...rec, seq: ++this.seq };
    s.requests++;
    s.inFlight++;
    s.byRoute[rec.route] = (s.byRoute[rec.route] ?? 0) + 1;
    const m = this.model(rec.model);
    m.requests++;
    m.inFlight++;
    this.since.add(record);
    s.log.push(record);
    if (s.log.length > this.logLimit) s.log.splice(0, s.log.length - this.logLimit);
    this.changed();
    return record;
  }

  /**
   * Records how a request ended (once). `clientGone` counts it as a client disconnect too
   * (always for 'aborted'; for 'hang', the client giving up is the only way it ends).
   */
  end(record: MockRequestRecord, outcome: MockOutcome, clientGone = outcome === 'aborted'): void {
    if (record.outcome !== undefined) return;
    record.outcome = outcome;
    record.endedAt = performance.now();
    const s = this.snapshot;
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (!this.since.has(record)) {
      this.changed();
      return;
    }
    s.outcomes[outcome] = (s.outcomes[outcome] ?? 0) + 1;
    const m = this.model(record.model);
    m.inFlight = Math.max(0, m.inFlight - 1);
    m.outcomes[outcome] = (m.outcomes[outcome] ?? 0) + 1;
    if (clientGone) {
      s.aborted++;
      m.aborted++;
    }
    this.changed();
  }

  private changed(): void {
    this.events.emit('change');
  }

  /** Resolves when `check(stats)` holds; rejects after `timeoutMs`. */
  waitFor(check: (stats: MockStatsSnapshot) => boolean, timeoutMs: number): Promise<void> {
    if (check(this.snapshot)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (!check(this.snapshot)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`mock-openai: condition not met within ${timeoutMs}ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('change', onChange);
      };
      this.events.on('change', onChange);
    });
  }
}
