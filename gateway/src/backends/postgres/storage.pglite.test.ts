import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyCheckpoint } from '@langchain/langgraph';
import { createCheckpointer } from './checkpointer.js';
import { storageMemoryStoreContract } from '../../../test/contracts/memory-store.js';
import { openStorage } from './open-storage.js';
import { storageContract } from '../../../test/contracts/storage.contract.js';

storageContract('PGlite (in memory)', { open: () => openStorage() });
storageMemoryStoreContract('PGlite with pgvector', { open: () => openStorage(), expectVector: true });

describe('PGlite data directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-pg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps users, sessions, transcript, memories and checkpoints across close and reopen', async () => {
    const first = await openStorage({ dataDir: join(dir, 'pg') });
    const user = await first.users.create({ email: 'durable@example.com', passwordHash: 'h' });
    const session = await first.sessions.create(user.id, { title: 'kept' });
    await first.messages.append({ sessionId: session.id, runId: 'r1', role: 'user', content: 'my favourite colour is teal' });
    await first.memories.add(user.id, { text: 'favourite colour is teal', embedding: [0.6, 0.8] });
    const config = { configurable: { thread_id: session.id, checkpoint_ns: '' } };
    const checkpoint = emptyCheckpoint();
    await createCheckpointer(first).put(config, checkpoint, { source: 'input', step: -1, parents: {} }, {});
    await first.close();

    const second = await openStorage({ dataDir: join(dir, 'pg') });
    try {
      expect(await second.users.findByEmail('durable@example.com')).toMatchObject({ id: user.id, passwordHash: 'h' });
      expect(await second.sessions.get(user.id, session.id)).toMatchObject({ title: 'kept' });
      expect((await second.messages.list(session.id)).messages.map((m) => m.content)).toEqual(['my favourite colour is teal']);
      expect((await second.memories.search(user.id, [0.6, 0.8], 1))[0]).toMatchObject({ text: 'favourite colour is teal' });
      expect((await createCheckpointer(second).getTuple(config))?.checkpoint.id).toBe(checkpoint.id);
    } finally {
      await second.close();
    }
  });

  it('serializes storage and checkpointer transactions on the single connection', async () => {
    const storage = await openStorage();
    try {
      const user = await storage.users.create({ email: 'busy@example.com', passwordHash: 'h' });
      const saver = createCheckpointer(storage);
      const sessions = await Promise.all(Array.from({ length: 5 }, () => storage.sessions.create(user.id)));
      const config = (id: string) => ({ configurable: { thread_id: id, checkpoint_ns: '' } });
      await Promise.all(
        sessions.flatMap((s, i) => [
          saver.put(config(s.id), emptyCheckpoint(), { source: 'input', step: i, parents: {} }, {}),
          storage.messages.append({ sessionId: s.id, runId: 'r', role: 'user', content: `m${i}` }),
          saver.putWrites({ configurable: { ...config(s.id).configurable, checkpoint_id: 'x' } }, [['ch', i]], `task-${i}`),
        ]),
      );
      for (const s of sessions) {
        expect((await storage.messages.list(s.id)).messages).toHaveLength(1);
        expect(await saver.getTuple(config(s.id))).toBeDefined();
      }
      const deleted = await Promise.all(sessions.map((s) => storage.sessions.delete(user.id, s.id)));
      expect(deleted).toEqual([true, true, true, true, true]);
      expect(await storage.sessions.list(user.id)).toEqual([]);
      for (const s of sessions) expect(await saver.getTuple(config(s.id))).toBeUndefined();
    } finally {
      await storage.close();
    }
  });
});
