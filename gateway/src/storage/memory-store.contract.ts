/** The memory store contract suite, run on every database and on both search paths. */
import { randomUUID } from 'node:crypto';
import { InvalidInputError, NotFoundError } from './errors.js';
import type { StorageFactory } from './storage.contract.js';
import type { Storage } from './types.js';

/** A unit vector along `axis` with a little of `mix` blended in. */
function vec(dims: number, axis: number, mix = -1, weight = 0): number[] {
  const v = new Array<number>(dims).fill(0);
  v[axis] = 1;
  if (mix >= 0) v[mix] += weight;
  return v;
}

export function memoryStoreContract(name: string, factory: StorageFactory & { expectVector: boolean }): void {
  describe(`memory store contract: ${name}`, () => {
    let storage: Storage;
    let alice: string;
    let bob: string;

    beforeAll(async () => {
      storage = await factory.open();
      alice = (await storage.users.create({ email: 'alice@example.com', passwordHash: 'x' })).id;
      bob = (await storage.users.create({ email: 'bob@example.com', passwordHash: 'x' })).id;
    });
    afterAll(async () => {
      await storage?.close();
      await factory.cleanup?.();
    });

    it(`uses ${factory.expectVector ? 'pgvector' : 'exact cosine without pgvector'}`, () => {
      expect(storage.hasVector).toBe(factory.expectVector);
    });

    it('finds the most similar memories of that user, best first, with cosine scores', async () => {
      await storage.memories.add(alice, { text: 'likes teal', embedding: vec(8, 0) });
      await storage.memories.add(alice, { text: 'lives in Oslo', embedding: vec(8, 1) });
      await storage.memories.add(alice, { text: 'near teal', embedding: vec(8, 0, 2, 0.5) });
      await storage.memories.add(bob, { text: "bob's secret", embedding: vec(8, 0) });

      const hits = await storage.memories.search(alice, vec(8, 0), 2);
      expect(hits.map((h) => h.text)).toEqual(['likes teal', 'near teal']);
      expect(hits[0].score).toBeCloseTo(1, 5);
      expect(hits[1].score).toBeCloseTo(1 / Math.sqrt(1.25), 5);
      expect(hits[0]).toEqual({ id: expect.any(String), text: 'likes teal', score: expect.any(Number), createdAt: expect.any(String) });
      expect((await storage.memories.search(alice, vec(8, 1), 10)).map((h) => h.text)).toEqual([
        'lives in Oslo',
        expect.any(String),
        expect.any(String),
      ]);
    });

    it('never returns another user’s memories', async () => {
      const bobHits = await storage.memories.search(bob, vec(8, 1), 10);
      expect(bobHits.map((h) => h.text)).toEqual(["bob's secret"]);
      expect((await storage.memories.list(bob)).map((m) => m.text)).toEqual(["bob's secret"]);
      const stranger = (await storage.users.create({ email: `s-${randomUUID()}@example.com`, passwordHash: 'x' })).id;
      expect(await storage.memories.search(stranger, vec(8, 0), 5)).toEqual([]);
    });

    it('keeps embeddings of different sizes apart', async () => {
      await storage.memories.add(alice, { text: 'small model', embedding: vec(4, 0) });
      expect((await storage.memories.search(alice, vec(4, 0), 5)).map((h) => h.text)).toEqual(['small model']);
    });

    it('lists newest first and deletes one or all, only the owner’s', async () => {
      const list = await storage.memories.list(alice);
      expect(list[0].text).toBe('small model');
      expect(list).toHaveLength(4);
      const bobs = await storage.memories.list(bob);
      expect(await storage.memories.delete(alice, bobs[0].id)).toBe(0);
      expect(await storage.memories.delete(alice, list[0].id)).toBe(1);
      expect(await storage.memories.delete(alice, 'not-a-uuid')).toBe(0);
      expect(await storage.memories.delete(alice)).toBe(3);
      expect(await storage.memories.list(alice)).toEqual([]);
      expect(await storage.memories.list(bob)).toHaveLength(1);
    });

    it('rejects bad input clearly and treats bad user ids as empty', async () => {
      await expect(storage.memories.add(alice, { text: '', embedding: [1] })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(storage.memories.add(alice, { text: 'x', embedding: [] })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(storage.memories.add(alice, { text: 'x', embedding: [1, Number.NaN] })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(storage.memories.add(randomUUID(), { text: 'x', embedding: [1] })).rejects.toBeInstanceOf(NotFoundError);
      await expect(storage.memories.search(alice, [1], 0)).rejects.toBeInstanceOf(InvalidInputError);
      expect(await storage.memories.search('nope', [1], 3)).toEqual([]);
      expect(await storage.memories.list('nope')).toEqual([]);
    });
  });
}
