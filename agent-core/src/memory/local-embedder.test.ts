import { cosineSimilarity } from './in-memory-store.js';
import { createLocalEmbedder, embedLocal } from './local-embedder.js';

describe('local embedder', () => {
  const embedder = createLocalEmbedder();

  it('is deterministic, normalized and of the stated size', async () => {
    const [a, b] = await embedder.embed(['My favourite colour is teal', 'My favourite colour is teal']);
    expect(a).toEqual(b);
    expect(a).toHaveLength(256);
    expect(Math.hypot(...a)).toBeCloseTo(1, 10);
    expect(Math.hypot(...embedLocal('', 64))).toBeCloseTo(1, 10);
  });

  it('puts related sentences nearer than unrelated ones', async () => {
    const [fact, question, other] = await embedder.embed([
      'my favourite colour is teal',
      'what is my favourite colour?',
      'I live in Oslo and work as a carpenter',
    ]);
    expect(cosineSimilarity(fact, question)).toBeGreaterThan(0.5);
    expect(cosineSimilarity(fact, question)).toBeGreaterThan(cosineSimilarity(fact, other) + 0.3);
    // Character trigrams tie spelling variants together.
    const [colour, color, bike] = await embedder.embed(['favourite colours', 'favorite colour', 'bicycle repair shop']);
    expect(cosineSimilarity(colour, color)).toBeGreaterThan(cosineSimilarity(colour, bike) + 0.2);
  });

  it('rejects a bad size and honors abort', async () => {
    expect(() => createLocalEmbedder({ dims: 3 })).toThrow(RangeError);
    await expect(embedder.embed(['x'], AbortSignal.abort())).rejects.toThrow();
  });
});
