/**
 * On PGlite a user known to hold no memories is answered without a query; a memory stored
 * meanwhile — also while a search was running — is found by the next search.
 */
import { openStorage } from './open-storage.js';
import type { Storage } from './types.js';

describe('PGlite memory search of a user without memories', () => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await openStorage();
  });
  afterAll(async () => {
    await storage.close();
  });

  it('finds a memory stored after a search that found none', async () => {
    const user = await storage.users.create({ email: 'known-empty@example.com', passwordHash: 'h' });
    expect(await storage.memories.search(user.id, [1, 0], 3)).toEqual([]);
    expect(await storage.memories.search(user.id, [1, 0], 3)).toEqual([]);
    await storage.memories.add(user.id, { text: 'likes tea', embedding: [1, 0] });
    expect((await storage.memories.search(user.id, [1, 0], 3)).map((m) => m.text)).toEqual(['likes tea']);
    // Deleting them all empties the user again; the next add is found again.
    await storage.memories.delete(user.id);
    expect(await storage.memories.search(user.id, [1, 0], 3)).toEqual([]);
    await storage.memories.add(user.id, { text: 'likes coffee', embedding: [0, 1] });
    expect((await storage.memories.search(user.id, [0, 1], 3)).map((m) => m.text)).toEqual(['likes coffee']);
  });

  it('finds a memory stored while a search that found none was running', async () => {
    const user = await storage.users.create({ email: 'known-empty-race@example.com', passwordHash: 'h' });
    const [found] = await Promise.all([storage.memories.search(user.id, [1, 0], 3), storage.memories.add(user.id, { text: 'plays chess', embedding: [1, 0] })]);
    expect(found.length).toBeLessThanOrEqual(1);
    expect((await storage.memories.search(user.id, [1, 0], 3)).map((m) => m.text)).toEqual(['plays chess']);
  });

  it('keeps embedding sizes apart', async () => {
    const user = await storage.users.create({ email: 'known-empty-dims@example.com', passwordHash: 'h' });
    expect(await storage.memories.search(user.id, [1, 0, 0], 3)).toEqual([]);
    await storage.memories.add(user.id, { text: 'two dims', embedding: [1, 0] });
    expect(await storage.memories.search(user.id, [1, 0, 0], 3)).toEqual([]);
    await storage.memories.add(user.id, { text: 'three dims', embedding: [1, 0, 0] });
    expect((await storage.memories.search(user.id, [1, 0, 0], 3)).map((m) => m.text)).toEqual(['three dims']);
  });
});
