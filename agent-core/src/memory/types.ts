/** Contracts of long-term memory: embedders, the per-user store, fact extraction. */

/** Turns texts into vectors of a fixed size. */
export interface Embedder {
  /** Vector size of every embedding this embedder returns. */
  readonly dims: number;
  /** One vector per text, in order. Honors `signal` where it can. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

/** A stored memory. */
export interface MemoryRecord {
  id: string;
  text: string;
  createdAt: string;
}

/** A memory found by similarity; `score` is the cosine similarity in [-1, 1]. */
export interface MemoryHit extends MemoryRecord {
  score: number;
}

/**
 * Per-user vector memory. Implementations never return one user's memories to another.
 * The gateway's storage implements it on PGlite/Postgres; {@link createInMemoryStore} is the
 * process-local one.
 */
export interface MemoryStore {
  add(userId: string, input: { text: string; embedding: number[] }): Promise<MemoryRecord>;
  /** The `k` memories of `userId` most similar to `embedding`, best first. */
  search(userId: string, embedding: number[], k: number): Promise<MemoryHit[]>;
  /** All memories of `userId`, newest first. */
  list(userId: string): Promise<MemoryRecord[]>;
  /** Deletes one memory, or all of the user's when `id` is omitted; returns how many. */
  delete(userId: string, id?: string): Promise<number>;
}

/** What a fact extractor sees of a finished turn. */
export interface TurnInput {
  userId: string;
  sessionId: string;
  userText: string;
  answer: string;
}

/** Finds facts worth keeping in a turn. The rule-based one is the default; an LLM one can plug in. */
export interface FactExtractor {
  extract(turn: TurnInput, signal?: AbortSignal): Promise<string[]> | string[];
}

/** Where memory reports problems (a winston logger fits). Never receives memory text. */
export interface MemoryLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
}
