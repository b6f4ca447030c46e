/** A process-local MemoryStore (tests, evals, single-process demos). Exact cosine search. */
import { randomUUID } from 'node:crypto';
import type { MemoryHit, MemoryRecord, MemoryStore } from './types.js';

/** Cosine similarity; 0 when either vector is all zeros or the sizes differ. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

interface Entry extends MemoryRecord {
  embedding: number[];
}

/**
 * Creates an empty in-memory store.
 *
 * @example
 * const memory = createMemory({ store: createInMemoryStore(), embedder: createLocalEmbedder() });
 */
export function createInMemoryStore(): MemoryStore {
  const byUser = new Map<string, Entry[]>();
  return {
    async add(userId, { text, embedding }) {
      const entry: Entry = { id: randomUUID(), text, createdAt: new Date().toISOString(), embedding: [...embedding] };
      const list = byUser.get(userId) ?? [];
      list.push(entry);
      byUser.set(userId, list);
      return { id: entry.id, text: entry.text, createdAt: entry.createdAt };
    },
    async search(userId, embedding, k) {
      const hits: MemoryHit[] = (byUser.get(userId) ?? [])
        .filter((e) => e.embedding.length === embedding.length)
        .map((e) => ({ id: e.id, text: e.text, createdAt: e.createdAt, score: cosineSimilarity(embedding, e.embedding) }));
      return hits.sort((a, b) => b.score - a.score).slice(0, Math.max(0, k));
    },
    async list(userId) {
      return (byUser.get(userId) ?? []).map(({ id, text, createdAt }) => ({ id, text, createdAt })).reverse();
    },
    async delete(userId, id) {
      const list = byUser.get(userId) ?? [];
      const kept = id === undefined ? [] : list.filter((e) => e.id !== id);
      byUser.set(userId, kept);
      return list.length - kept.length;
    },
  };
}
