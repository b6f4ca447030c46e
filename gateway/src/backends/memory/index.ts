import type { IdempotencyStore, LogRetention, PubSub, ResumeRegistry, RunLock, SeqReservations, SessionLog } from '../../ports.js';
import { createMemorySessionLog } from './session-log.js';
import { createMemoryIdempotencyStore, createMemoryPubSub, createMemoryResumeRegistry, createMemoryRunLock } from './shared-state.js';

/** The shared backends of one process (no Redis): everything a single node needs, in memory. */
export interface MemoryBackends {
  log: SessionLog;
  bus: PubSub;
  lock: RunLock;
  idempotency: IdempotencyStore;
  resume: ResumeRegistry;
}

/**
 * Creates the in-process frame log, bus, run lock, idempotency keys and resume registry.
 * @example
 * const { log, bus } = createMemoryBackends({ retention: { maxFrames: 10_000, maxAgeMs: 86_400_000 } });
 */
export function createMemoryBackends(options: { retention: LogRetention; reservations?: SeqReservations }): MemoryBackends {
  const lock = createMemoryRunLock();
  return {
    log: createMemorySessionLog(options.retention, Date.now, {
      holder: (sessionId) => lock.holderNow(sessionId),
      release: (sessionId, lease) => void lock.release(sessionId, lease),
      reservations: options.reservations,
    }),
    bus: createMemoryPubSub(),
    lock,
    idempotency: createMemoryIdempotencyStore(Date.now, { lock }),
    resume: createMemoryResumeRegistry(),
  };
}
