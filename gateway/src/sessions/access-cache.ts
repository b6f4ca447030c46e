/**
 * Remembers, briefly, that a user owns a session, so the socket path (every `join` and `send`)
 * does not query the database each time. Only positive answers are kept; a deleted session stays
 * reachable on other nodes for at most `ttlMs` (its log and checkpoints are gone by then).
 */
export class SessionAccessCache {
  private readonly entries = new Map<string, number>();
  constructor(
    private readonly lookup: (userId: string, sessionId: string) => Promise<boolean>,
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  async canAccess(userId: string, sessionId: string): Promise<boolean> {
    const key = `${userId}\u0000${sessionId}`;
    const until = this.entries.get(key);
    if (until !== undefined && until > this.now()) return true;
    const ok = await this.lookup(userId, sessionId);
    if (ok) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, this.now() + this.ttlMs);
    } else this.entries.delete(key);
    return ok;
  }

  forget(userId: string, sessionId: string): void {
    this.entries.delete(`${userId}\u0000${sessionId}`);
  }
}
