/**
 * A decaying count of a socket's bad frames: each bad frame adds one, and the score falls by one
 * every `decayMs`. Valid frames do not reset it, so garbage interleaved with valid frames still
 * reaches the limit, while an occasional mistake is forgotten.
 */
export interface GarbageScore {
  score: number;
  /** When the score was last updated (ms). */
  at: number;
}

/** A fresh score. */
export const newGarbageScore = (now = Date.now()): GarbageScore => ({ score: 0, at: now });

/**
 * Adds one bad frame and returns the decayed score including it.
 * @example if (addGarbage(conn.garbage, 5000) >= maxBadFrames) close(4002);
 */
export function addGarbage(g: GarbageScore, decayMs: number, now = Date.now()): number {
  g.score = Math.max(0, g.score - (now - g.at) / decayMs) + 1;
  g.at = now;
  return g.score;
}
