/** The part of the Web Storage API the SDK uses (`localStorage`, `sessionStorage`, or your own). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where a client stopped reading a session: join with `after: lastSeq` to continue without loss. */
export interface ResumePoint {
  sessionId: string;
  lastSeq: number;
}

/** `localStorage` when the platform has one that works (browsers), else `null`. */
export function browserStorage(): StorageLike | null {
  try {
    const s = (globalThis as { localStorage?: StorageLike }).localStorage;
    if (!s) return null;
    const probe = '__switchboard_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null; // disabled storage, private mode quotas, sandboxed frames
  }
}

/** A storage kept in memory (tests, Node, or when persistence is not wanted). */
export function memoryStorage(): StorageLike {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, String(v)),
    removeItem: (k) => void m.delete(k),
  };
}

/** Reads a JSON value; `null` when absent, unreadable or the storage throws. */
export function readJson<T>(storage: StorageLike | null, key: string, valid: (v: unknown) => v is T): T | null {
  if (!storage) return null;
  try {
    const raw = storage.getItem(key);
    if (raw === null) return null;
    const v: unknown = JSON.parse(raw);
    return valid(v) ? v : null;
  } catch {
    return null;
  }
}

/** Writes a JSON value; a full or failing storage is ignored (persistence is best effort). */
export function writeJson(storage: StorageLike | null, key: string, value: unknown): void {
  if (!storage) return;
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    /* quota exceeded or storage disabled */
  }
}

export function isResumePoint(v: unknown): v is ResumePoint {
  const o = v as ResumePoint | null;
  return typeof o === 'object' && o !== null && typeof o.sessionId === 'string' && Number.isInteger(o.lastSeq) && o.lastSeq >= 0;
}
