/**
 * The memory store contract suite: one set of cases every `MemoryStore` passes (agent-core's
 * in-memory store, the gateway's PGlite and Postgres stores, with and without pgvector).
 */
import { randomUUID } from 'node:crypto';
import type { MemoryStore } from '../../src/index.js';

/** An opened store and the means to make users in it. */
export interface OpenedMemoryStore {
  store: MemoryStore;
  /** Creates a user the store accepts memories for; returns its id. */
  newUser(email: string): Promise<string>;
  close?(): Promise<void>;
}

export interface MemoryStoreFactory {
  open(): Promise<OpenedMemoryStore>;
  cleanup?(): Promise<void>;
  /** Whether the store searches with a vector index; checked when given. */
  usesVector?: { expected: boolean; actual(): boolean };
  /**
   * Stores that validate their input reject bad input with these error classes; stores that take
   * any input (the in-memory one) leave this out and skip that case.
   */
  rejects?: { invalidInput: abstract new (...args: never[]) => Error; unknownUser: abstract new (...args: never[]) => Error };
}

/** A unit vector along `axis` with a little of `mix` blended in. */
function vec(dims: number, axis: number, mix = -1, weight = 0): number[] {
  const v = new Array<number>(dims).fill(0);
  v[axis] = 1;
  if (mix >= 0) v[mix] += weight;
  return v;
}

export function memoryStoreContract(name: string, factory: MemoryStoreFactory): void {
  describe(`memory store contract: ${name}`, () => {
    let opened: OpenedMemoryStore;
    let store: MemoryStore;
    let alice: string;
    let bob: string;

    beforeAll(async () => {
      opened = await factory.open();
      store = opened.store;
      alice = await opened.newUser('alice@example.com');
      bob = await opened.newUser('bob@example.com');
    });
    afterAll(async () => {
      await opened?.close?.();
      await factory.cleanup?.();
    });

    it.skipIf(!factory.usesVector)(`uses ${factory.usesVector?.expected ? 'pgvector' : 'exact cosine without pgvector'}`, () => {
      expect(factory.usesVector!.actual()).toBe(factory.usesVector!.expected);
    });

    it('finds the most similar memories of that user, best first, with cosine scores', async () => {
      await store.add(alice, { text: 'likes teal', embedding: vec(8, 0) });
      await store.add(alice, { text: 'lives in Oslo', embedding: vec(8, 1) });
      await store.add(alice, { text: 'near teal', embedding: vec(8, 0, 2, 0.5) });
      await store.add(bob, { text: "bob's secret", embedding: vec(8, 0) });

      const hits = await store.search(alice, vec(8, 0), 2);
      expect(hits.map((h) => h.text)).toEqual(['likes teal', 'near teal']);
      expect(hits[0].score).toBeCloseTo(1, 5);
      expect(hits[1].score).toBeCloseTo(1 / Math.sqrt(1.25), 5);
      expect(hits[0]).toEqual({ id: expect.any(String), text: 'likes teal', score: expect.any(Number), createdAt: expect.any(String) });
      expect((await store.search(alice, vec(8, 1), 10)).map((h) => h.text)).toEqual([
        'lives in Oslo',
        expect.any(String),
        expect.any(String),
      ]);
    });

    it('never returns another user’s memories', async () => {
      const bobHits = await store.search(bob, vec(8, 1), 10);
      expect(bobHits.map((h) => h.text)).toEqual(["bob's secret"]);
      expect((await store.list(bob)).map((m) => m.text)).toEqual(["bob's secret"]);
      const stranger = await opened.newUser(`s-${randomUUID()}@example.com`);
      expect(await store.search(stranger, vec(8, 0), 5)).toEqual([]);
    });

    it('keeps embeddings of different sizes apart', async () => {
      await store.add(alice, { text: 'small model', embedding: vec(4, 0) });
      expect((await store.search(alice, vec(4, 0), 5)).map((h) => h.text)).toEqual(['small model']);
    });

    it('lists newest first and deletes one or all, only the owner’s', async () => {
      const list = await store.list(alice);
      expect(list[0].text).toBe('small model');
      expect(list).toHaveLength(4);
      const bobs = await store.list(bob);
      expect(await store.delete(alice, bobs[0].id)).toBe(0);
      expect(await store.delete(alice, list[0].id)).toBe(1);
      expect(await store.delete(alice, 'not-a-uuid')).toBe(0);
      expect(await store.delete(alice)).toBe(3);
      expect(await store.list(alice)).toEqual([]);
      expect(await store.list(bob)).toHaveLength(1);
    });

    it.skipIf(!factory.rejects)('rejects bad input clearly and treats bad user ids as empty', async () => {
      const { invalidInput, unknownUser } = factory.rejects!;
      await expect(store.add(alice, { text: '', embedding: [1] })).rejects.toBeInstanceOf(invalidInput);
      await expect(store.add(alice, { text: 'x', embedding: [] })).rejects.toBeInstanceOf(invalidInput);
      await expect(store.add(alice, { text: 'x', embedding: [1, Number.NaN] })).rejects.toBeInstanceOf(invalidInput);
      await expect(store.add(randomUUID(), { text: 'x', embedding: [1] })).rejects.toBeInstanceOf(unknownUser);
      await expect(store.search(alice, [1], 0)).rejects.toBeInstanceOf(invalidInput);
      expect(await store.search('nope', [1], 3)).toEqual([]);
      expect(await store.list('nope')).toEqual([]);
    });
  });
}
