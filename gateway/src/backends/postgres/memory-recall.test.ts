/**
 * The agent's memory service on the real stores: a fact told in one session is recalled in
 * another session of the same user — after a restart too — and never for another user.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// agent-core's package index does not export the memory module (yet); import it by path.
import { createLocalEmbedder, createMemory, createMemoryTools } from '@switchboard/agent-core';
import { openStorage } from './open-storage.js';
import { dropSchema, serverPostgres, TEST_DATABASE_URL, uniqueSchema } from '../../../test/support/postgres.js';
import type { OpenStorageOptions, Storage } from './types.js';

const server = await serverPostgres();
const QUESTION = 'what is my favourite colour?';

async function tellAndRecall(storage: Storage): Promise<{ alice: string; bob: string }> {
  const alice = (await storage.users.create({ email: 'alice@example.com', passwordHash: 'x' })).id;
  const bob = (await storage.users.create({ email: 'bob@example.com', passwordHash: 'x' })).id;
  const first = await storage.sessions.create(alice);
  const memory = createMemory({ store: storage.memories, embedder: createLocalEmbedder() });
  memory.afterTurn({ userId: alice, sessionId: first.id, userText: 'Remember that my favourite colour is teal.', answer: 'Got it.' });
  memory.afterTurn({ userId: bob, sessionId: first.id, userText: 'I live in Lisbon.', answer: 'Nice.' });
  await memory.drain();
  expect(memory.stats()).toMatchObject({ stored: 2, failed: 0 });

  await storage.sessions.create(alice); // a new session: memory is per user, not per session
  expect(await memory.recall(alice, QUESTION)).toEqual(['my favourite colour is teal']);
  expect(await memory.recall(bob, QUESTION)).not.toContain('my favourite colour is teal');
  const [, recall] = createMemoryTools(memory);
  expect(await recall.invoke({ query: 'favourite colour' }, { configurable: { userId: alice } })).toContain('teal');
  expect(await recall.invoke({ query: 'favourite colour' }, { configurable: { userId: bob } })).not.toContain('teal');
  return { alice, bob };
}

function suite(name: string, options: () => OpenStorageOptions, cleanup?: () => Promise<void>): void {
  it(`recalls across sessions of one user, never across users: ${name}`, async () => {
    const storage = await openStorage(options());
    try {
      await tellAndRecall(storage);
    } finally {
      await storage.close();
      await cleanup?.();
    }
  });
}

it('recalls across sessions and users on PGlite, and after a restart of its data directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-mem-'));
  try {
    const before = await openStorage({ dataDir: dir });
    const { alice, bob } = await tellAndRecall(before);
    await before.close();
    const after = await openStorage({ dataDir: dir });
    const memory = createMemory({ store: after.memories, embedder: createLocalEmbedder() });
    expect(await memory.recall(alice, QUESTION)).toEqual(['my favourite colour is teal']);
    expect(await memory.recall(bob, QUESTION)).not.toContain('my favourite colour is teal');
    await after.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

if (server.available) {
  for (const vector of [true, false]) {
    const schema = uniqueSchema(vector ? 'rv' : 'rx');
    suite(
      `server Postgres, pgvector ${vector ? 'on' : 'off'}`,
      () => ({ databaseUrl: TEST_DATABASE_URL, schema, vector, poolMax: 2 }),
      () => dropSchema(schema),
    );
  }
} else {
  it.skip(`memory recall on server Postgres: ${server.reason}`, () => {});
}
