import { randomBytes } from 'node:crypto';
import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import { LeaseLostError, PreviousRunOpenError, type AppendBatchOptions, type AppendedFrame, type LogRetention, type ReadResult, type SeqReservations, type SessionLog } from '../../ports.js';

interface Entry {
  frames: Array<{ frame: SessionFrame; at: number }>;
  lastSeq: number;
  epoch: string;
  /** Highest `seq` this log may hand out (the durable reservation). */
  ceiling: number;
  /** The lease of the last fenced append. */
  writer?: string;
  /** The run whose `done` was the last one written. */
  ended?: string;
}

export const DEFAULT_RETENTION: LogRetention = { maxFrames: 10_000, maxAgeMs: 24 * 60 * 60 * 1000 };

/** A new log epoch: 12 random bytes, base64url. */
export const newEpoch = (): string => randomBytes(12).toString('base64url');

/** What one try of an append found: written, refused, or what it needs first. */
export type AppendAttempt<T> = { ok: T } | { fenced: true } | { previousOpen: string } | { needFloor: true } | { needCeiling: number } | { busy: true };

/** What the next try of an append brings: a new epoch with its floor and ceiling, or a raised ceiling. */
export interface AppendGrant {
  epoch?: string;
  floor?: number;
  ceiling?: number;
}

/** How long an append waits, in all, for another node to start a new log's epoch. */
const BUSY_WAIT_MS = 5000;
/** How long an append that found no log may take to come back with a floor before another may (every log). */
export const NEW_LOG_HOLD_MS = 2000;

/**
 * Runs an append that may first need a durable reservation: a log without an epoch (new or
 * recreated) needs the reservation's floor to number above, and a log at its ceiling a new one.
 * Without reservations the floor is 0 and there is no ceiling (nothing survives the log anyway).
 * A shared log answers `busy` while another node reserves that floor: the append waits for it
 * (a little longer each time) and tries again without a grant.
 */
export async function appendWithReservation<T>(
  sessionId: string,
  runId: string,
  reservations: SeqReservations | undefined,
  attempt: (grant: AppendGrant) => Promise<AppendAttempt<T>>,
): Promise<T> {
  let grant: AppendGrant = {};
  let waited = 0;
  let waits = 0;
  for (let tries = 0; tries < 5; tries++) {
    const r = await attempt(grant);
    if ('ok' in r) return r.ok;
    if ('fenced' in r) throw new LeaseLostError(sessionId, runId);
    if ('previousOpen' in r) throw new PreviousRunOpenError(sessionId, r.previousOpen);
    if ('busy' in r) {
      if (waited >= BUSY_WAIT_MS) break;
      const ms = Math.min(50, 2 * 2 ** waits++);
      await new Promise((resolve) => setTimeout(resolve, ms));
      waited += ms;
      grant = {};
      tries--; // waiting is not a try
    } else if ('needFloor' in r) {
      const res = reservations ? await reservations.reserve(sessionId, 0) : { floor: 0, ceiling: Number.MAX_SAFE_INTEGER };
      grant = { epoch: newEpoch(), floor: res.floor, ceiling: res.ceiling };
    } else {
      grant = { ceiling: reservations ? (await reservations.reserve(sessionId, r.needCeiling)).ceiling : Number.MAX_SAFE_INTEGER };
    }
  }
  throw new Error(`session ${sessionId}: could not reserve seq numbers for an append`);
}

/** Options of {@link createMemorySessionLog} beyond retention. */
export interface MemorySessionLogOptions {
  /** The run lock's current holder of a session (fencing); without it a lease is checked against the last writer only. */
  holder?(sessionId: string): string | null;
  /** Durable `seq` reservations (a restarted process numbers above them). */
  reservations?: SeqReservations;
  /** Releases the run lock of a session if `lease` holds it, at once: with it the log honours `releaseOnEnd`. */
  release?(sessionId: string, lease: string): void;
}

/** The in-process session log (embedded default): one node only. */
export function createMemorySessionLog(retention: Partial<LogRetention> = {}, now: () => number = Date.now, options: MemorySessionLogOptions = {}): SessionLog {
  const { maxFrames, maxAgeMs } = { ...DEFAULT_RETENTION, ...retention };
  const sessions = new Map<string, Entry>();
  // A new log's first append reserves its floor; one at a time, the others wait for its epoch
  // (until when they wait, per session).
  const reserving = new Map<string, number>();

  function trim(entry: Entry): void {
    const cutoff = now() - maxAgeMs;
    let drop = Math.max(0, entry.frames.length - maxFrames);
    while (drop < entry.frames.length && entry.frames[drop]!.at < cutoff) drop++;
    if (drop > 0) entry.frames.splice(0, drop);
  }

  /** One synchronous try: checks the lease, the previous run and the ceiling, then writes every frame or none. */
  function tryAppend(sessionId: string, inputs: SessionFrameInput[], o: AppendBatchOptions, grant: AppendGrant): AppendAttempt<AppendedFrame[]> {
    const lease = o.lease;
    const runId = inputs[0]?.runId ?? '';
    let entry = sessions.get(sessionId);
    if (!entry) {
      if (grant.epoch === undefined) {
        if ((reserving.get(sessionId) ?? 0) > now()) return { busy: true };
        reserving.set(sessionId, now() + NEW_LOG_HOLD_MS);
        return { needFloor: true };
      }
      reserving.delete(sessionId);
      sessions.set(sessionId, (entry = { frames: [], lastSeq: grant.floor ?? 0, epoch: grant.epoch, ceiling: grant.ceiling ?? 0 }));
    } else if (grant.ceiling !== undefined) entry.ceiling = Math.max(entry.ceiling, grant.ceiling);
    if (lease !== undefined && inputs.length > 0) {
      if (entry.ended === runId) return { fenced: true };
      const holder = options.holder ? options.holder(sessionId) : null;
      if (holder !== lease && (holder !== null || (entry.writer !== undefined && entry.writer !== lease))) return { fenced: true };
    }
    if (o.ifPreviousEnded && inputs.length > 0) {
      const tail = entry.frames.at(-1)?.frame;
      if (tail && tail.seq === entry.lastSeq && tail.type !== 'done' && tail.runId !== runId) return { previousOpen: tail.runId };
    }
    if (entry.lastSeq + inputs.length > entry.ceiling) return { needCeiling: entry.lastSeq + inputs.length };
    if (lease !== undefined) {
      entry.writer = lease;
      if (inputs.some((f) => f.type === 'done' && f.runId === runId)) {
        entry.ended = runId;
        if (o.releaseOnEnd) options.release?.(sessionId, lease);
      }
    }
    const at = now();
    const out = inputs.map((input) => {
      const frame = { ...input, seq: ++entry.lastSeq } as SessionFrame;
      entry.frames.push({ frame, at });
      return { frame, json: JSON.stringify(frame), epoch: entry.epoch };
    });
    trim(entry);
    return { ok: out };
  }

  const appendBatch = async (inputs: SessionFrameInput[], o: AppendBatchOptions): Promise<AppendedFrame[]> => {
    if (inputs.length === 0) return [];
    const sessionId = inputs[0]!.sessionId;
    if (inputs.some((f) => f.sessionId !== sessionId)) throw new TypeError('appendBatch takes frames of one session');
    return appendWithReservation(sessionId, inputs[0]!.runId, options.reservations, async (grant) => tryAppend(sessionId, inputs, o, grant));
  };

  return {
    async append(input, appendOptions = {}): Promise<SessionFrame> {
      return (await appendBatch([input], appendOptions))[0]!.frame;
    },
    // One process: there is no bus to publish on in the same step (`publishes` is unset).
    async appendBatch(inputs, batchOptions = {}): Promise<AppendedFrame[]> {
      return appendBatch(inputs, batchOptions);
    },
    releasesLease: options.release !== undefined,
    async open(sessionId) {
      await appendWithReservation(sessionId, '', options.reservations, async (grant) => tryAppend(sessionId, [], {}, grant));
      return sessions.get(sessionId)!.epoch;
    },
    async readAfter(sessionId, after, limit = 10_000): Promise<ReadResult> {
      const entry = sessions.get(sessionId);
      if (!entry) return { frames: [], gap: false, lastSeq: 0, epoch: '' };
      trim(entry);
      const first = entry.frames[0]?.frame.seq ?? entry.lastSeq + 1;
      const gap = after + 1 < first && after < entry.lastSeq;
      const start = Math.max(0, after + 1 - first);
      const frames = entry.frames.slice(start, start + limit).map((e) => e.frame);
      return { frames, gap, lastSeq: entry.lastSeq, epoch: entry.epoch };
    },
    async lastSeq(sessionId) {
      return sessions.get(sessionId)?.lastSeq ?? 0;
    },
    async delete(sessionId) {
      sessions.delete(sessionId);
    },
    async close() {
      sessions.clear();
    },
  };
}
