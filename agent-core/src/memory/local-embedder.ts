/**
 * The offline `local` embedder: deterministic feature hashing of words and character trigrams
 * into a fixed-size, L2-normalized vector. Sentences that share words (or word stems) land near
 * each other; no model, no network, same output on every machine.
 */
import type { Embedder } from './types.js';

/** Options of {@link createLocalEmbedder}. */
export interface LocalEmbedderOptions {
  /**
   * Vector size.
   * @default 256
   */
  dims?: number;
}

/** Words that carry little meaning; kept, but with a small weight. */
const STOPWORDS = new Set(
  'a an the is are was were be been am i me my mine you your we our it its this that these those of to in on at for with and or but not do does did what which who whom how when where why please tell about'.split(
    ' ',
  ),
);

/** FNV-1a, 32 bit. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lowercased words of letters and digits (any script); a possessive "'s" is dropped. */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().normalize('NFKC').replace(/\u2019/g, "'").match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
  return words.map((w) => w.replace(/'s$/, ''));
}

/** Embeds one text; exported for tests. */
export function embedLocal(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const add = (feature: string, weight: number): void => {
    const h = hash(feature);
    // One hash picks the bucket, one of its bits the sign, so collisions cancel out on average.
    v[h % dims] += h & 0x80000000 ? -weight : weight;
  };
  for (const word of tokenize(text)) {
    const stop = STOPWORDS.has(word);
    add(`w:${word}`, stop ? 0.25 : 1);
    if (stop) continue;
    const padded = `<${word}>`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, 0.35);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) {
    // No features: a fixed unit vector keeps the result normalized and comparable.
    v[0] = 1;
    return v;
  }
  return v.map((x) => x / norm);
}

/**
 * Creates the deterministic offline embedder.
 *
 * @example
 * const embedder = createLocalEmbedder();
 * const [a, b] = await embedder.embed(['my favourite colour is teal', 'what is my favourite colour?']);
 */
export function createLocalEmbedder(options: LocalEmbedderOptions = {}): Embedder {
  const dims = options.dims ?? 256;
  if (!Number.isInteger(dims) || dims < 8 || dims > 4096) throw new RangeError('local embedder dims must be an integer in 8..4096');
  return {
    dims,
    async embed(texts, signal) {
      signal?.throwIfAborted();
      return texts.map((t) => embedLocal(String(t), dims));
    },
  };
}
