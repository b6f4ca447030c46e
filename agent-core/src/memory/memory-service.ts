/**
 * Long-term memory for the agent: `recall` before a turn (top-k by similarity), `afterTurn`
 * after it — fact extraction and storage run off the hot path on a bounded queue that drops
 * (and counts) when full instead of blocking a stream — and `remember` for the tool.
 */
import { createRuleFactExtractor } from './fact-extractor.js';
import type { Embedder, FactExtractor, MemoryLogger, MemoryStore, TurnInput } from './types.js';

/** Options of {@link createMemory}. */
export interface MemoryOptions {
  store: MemoryStore;
  embedder: Embedder;
  /**
   * Turns waiting for extraction at most; more are dropped and counted.
   * @default 256
   */
  queueSize?: number;
  /**
   * A new fact is skipped when an existing memory of the user is at least this similar (cosine).
   * @default 0.9
   */
  dedupThreshold?: number;
  /**
   * How many memories `recall` returns at most.
   * @default 5
   */
  topK?: number;
  /**
   * Memories less similar than this to the query are not recalled.
   * @default 0.2
   */
  minScore?: number;
  /** @default the rule-based extractor ({@link createRuleFactExtractor}) */
  extractor?: FactExtractor;
  logger?: MemoryLogger;
}

/** Counters of the background pipeline. */
export interface MemoryStats {
  /** Turns waiting in the queue (plus the one in progress). */
  queueDepth: number;
  /** Turns dropped because the queue was full. */
  dropped: number;
  /** Facts stored (by extraction and by `remember`). */
  stored: number;
  /** Facts skipped as near-duplicates of an existing memory. */
  duplicates: number;
  /** Turns whose extraction or storage failed. */
  failed: number;
}

/** The outcome of storing one fact. */
export type RememberResult = { stored: true; id: string } | { stored: false; duplicateOf: string };

export interface Memory {
  /** Texts of the user's memories most relevant to `query`, best first (used before a turn). */
  recall(userId: string, query: string, signal?: AbortSignal): Promise<string[]>;
  /** Stores one fact now, unless a near-duplicate is already stored (used by the `remember` tool). */
  remember(userId: string, fact: string, signal?: AbortSignal): Promise<RememberResult>;
  /** Queues fact extraction for a finished turn; never blocks. Returns false when the turn was dropped. */
  afterTurn(turn: TurnInput): boolean;
  stats(): MemoryStats;
  /** Resolves when the queue is empty and nothing is in progress (tests, shutdown). */
  drain(): Promise<void>;
}

const DEFAULTS = { queueSize: 256, dedupThreshold: 0.9, topK: 5, minScore: 0.2 } satisfies Partial<MemoryOptions>;
const MAX_FACT = 1_000;
/** Longest query embedded by `recall` (a huge message must not make every recall expensive). */
const MAX_QUERY = 2_000;
/** Longest user text / answer handed to the extractor. */
const MAX_TURN_TEXT = 4_000;
/** Facts stored per turn at most (each costs an embedding and a search). */
const MAX_FACTS_PER_TURN = 5;

/**
 * Creates the memory service.
 *
 * @example
 * const memory = createMemory({ store: storage.memories, embedder: createLocalEmbedder() });
 * const agent = createAgent({ model, memory, tools: createMemoryTools(memory) });
 */
export function createMemory(options: MemoryOptions): Memory {
  const { store, embedder, logger } = options;
  const queueSize = options.queueSize ?? DEFAULTS.queueSize;
  const dedupThreshold = options.dedupThreshold ?? DEFAULTS.dedupThreshold;
  const topK = options.topK ?? DEFAULTS.topK;
  const minScore = options.minScore ?? DEFAULTS.minScore;
  const extractor = options.extractor ?? createRuleFactExtractor();
  if (!Number.isInteger(queueSize) || queueSize < 1) throw new RangeError('queueSize must be a positive integer');

  const queue: TurnInput[] = [];
  const counters = { dropped: 0, stored: 0, duplicates: 0, failed: 0 };
  let inFlight = 0;
  let worker: Promise<void> | undefined;

  async function remember(userId: string, fact: string, signal?: AbortSignal): Promise<RememberResult> {
    const text = fact.trim().slice(0, MAX_FACT);
    if (!text) throw new RangeError('fact must not be empty');
    const [embedding] = await embedder.embed([text], signal);
    const [nearest] = await store.search(userId, embedding, 1);
    if (nearest && nearest.score >= dedupThreshold) {
      counters.duplicates += 1;
      return { stored: false, duplicateOf: nearest.id };
    }
    const record = await store.add(userId, { text, embedding });
    counters.stored += 1;
    return { stored: true, id: record.id };
  }

  async function processTurn(turn: TurnInput): Promise<void> {
    try {
      const facts = await extractor.extract({
        ...turn,
        userText: turn.userText.slice(0, MAX_TURN_TEXT),
        answer: turn.answer.slice(0, MAX_TURN_TEXT),
      });
      for (const fact of facts.slice(0, MAX_FACTS_PER_TURN)) await remember(turn.userId, fact);
    } catch (error) {
      counters.failed += 1;
      logger?.warn('memory extraction failed', { error: (error as Error).message, sessionId: turn.sessionId });
    }
  }

  async function run(): Promise<void> {
    // Yield first, so afterTurn's caller (the stream) goes on before any work starts.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const turn = queue.shift()!;
      inFlight = 1;
      await processTurn(turn);
      inFlight = 0;
    }
    worker = undefined;
  }

  return {
    async recall(userId, query, signal) {
      const text = query.trim().slice(0, MAX_QUERY);
      if (!text) return [];
      const [embedding] = await embedder.embed([text], signal);
      const hits = await store.search(userId, embedding, topK);
      return hits.filter((h) => h.score >= minScore).map((h) => h.text);
    },

    remember,

    afterTurn(turn) {
      if (queue.length >= queueSize) {
        counters.dropped += 1;
        logger?.warn('memory queue full: turn dropped', { sessionId: turn.sessionId, dropped: counters.dropped });
        return false;
      }
      queue.push(turn);
      worker ??= run();
      return true;
    },

    stats: () => ({ queueDepth: queue.length + inFlight, ...counters }),

    async drain() {
      while (worker) await worker;
    },
  };
}
