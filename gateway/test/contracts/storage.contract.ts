/**
 * The storage contract suite: every Storage implementation runs these same tests through a
 * factory that returns a fresh, empty storage.
 */
import { randomUUID } from 'node:crypto';
import { emptyCheckpoint } from '@langchain/langgraph';
import { createCheckpointer } from '../../src/backends/postgres/checkpointer.js';
import { ConflictError, InvalidInputError, NotFoundError, StorageError } from '../../src/backends/postgres/errors.js';
import type { Storage, User } from '../../src/backends/postgres/types.js';

export interface StorageFactory {
  open(): Promise<Storage>;
  /** Called after close, to drop what the factory created. */
  cleanup?(): Promise<void>;
}

export function storageContract(name: string, factory: StorageFactory): void {
  describe(`storage contract: ${name}`, () => {
    let storage: Storage;
    let alice: User;
    let bob: User;

    beforeAll(async () => {
      storage = await factory.open();
      alice = await storage.users.create({ email: 'Alice@Example.com', passwordHash: 'hash-a' });
      bob = await storage.users.create({ email: 'bob@example.com', passwordHash: 'hash-b' });
    });
    afterAll(async () => {
      await storage?.close();
      await factory.cleanup?.();
    });

    describe('users', () => {
      it('creates users as DTOs without the hash', () => {
        expect(alice).toEqual({ id: expect.any(String), email: 'Alice@Example.com', createdAt: expect.any(String) });
        expect(Object.keys(alice)).not.toContain('passwordHash');
        expect(new Date(alice.createdAt).toISOString()).toBe(alice.createdAt);
      });
      it('rejects a duplicate email, case-insensitively, with a typed conflict', async () => {
        const error = await storage.users.create({ email: 'alice@EXAMPLE.com', passwordHash: 'x' }).catch((e) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).toBeInstanceOf(StorageError);
        expect(error.code).toBe('conflict');
      });
      it('finds by email case-insensitively, with the hash, and by id without it', async () => {
        expect(await storage.users.findByEmail('ALICE@example.com')).toEqual({ ...alice, passwordHash: 'hash-a' });
        expect(await storage.users.findByEmail('nobody@example.com')).toBeNull();
        expect(await storage.users.findById(bob.id)).toEqual(bob);
        expect(await storage.users.findById(randomUUID())).toBeNull();
        expect(await storage.users.findById('not-a-uuid')).toBeNull();
      });
      it('rejects an empty email', async () => {
        await expect(storage.users.create({ email: ' ', passwordHash: 'x' })).rejects.toBeInstanceOf(InvalidInputError);
      });
    });

    describe('refresh tokens', () => {
      const expiresAt = () => new Date(Date.now() + 3_600_000);
      it('rotates once; a second rotation reports reuse; the family is revoked together', async () => {
        const familyId = randomUUID();
        const first = await storage.refreshTokens.create({ userId: alice.id, familyId, tokenHash: `h1-${familyId}`, expiresAt: expiresAt() });
        expect(first).toMatchObject({ userId: alice.id, familyId, revokedAt: null, replacedBy: null });
        const second = await storage.refreshTokens.create({ userId: alice.id, familyId, tokenHash: `h2-${familyId}`, expiresAt: expiresAt() });
        expect(await storage.refreshTokens.rotate(first.id, second.id)).toBe(true);
        expect(await storage.refreshTokens.rotate(first.id, second.id)).toBe(false);
        const used = await storage.refreshTokens.findByHash(`h1-${familyId}`);
        expect(used?.replacedBy).toBe(second.id);
        expect(used?.revokedAt).not.toBeNull();

        const other = await storage.refreshTokens.create({ userId: alice.id, familyId: randomUUID(), tokenHash: `o-${familyId}`, expiresAt: expiresAt() });
        expect(await storage.refreshTokens.revokeFamily(familyId)).toBe(1);
        expect((await storage.refreshTokens.findByHash(`h2-${familyId}`))?.revokedAt).not.toBeNull();
        expect((await storage.refreshTokens.findByHash(`o-${familyId}`))?.revokedAt).toBeNull();
      });
      it('says a family is live while it holds a valid token of its user, and not after revocation', async () => {
        const familyId = randomUUID();
        expect(await storage.refreshTokens.isFamilyLive(familyId, alice.id)).toBe(false);
        const first = await storage.refreshTokens.create({ userId: alice.id, familyId, tokenHash: `l1-${familyId}`, expiresAt: expiresAt() });
        expect(await storage.refreshTokens.isFamilyLive(familyId, alice.id)).toBe(true);
        expect(await storage.refreshTokens.isFamilyLive(familyId, bob.id)).toBe(false);
        const second = await storage.refreshTokens.create({ userId: alice.id, familyId, tokenHash: `l2-${familyId}`, expiresAt: expiresAt() });
        await storage.refreshTokens.rotate(first.id, second.id);
        expect(await storage.refreshTokens.isFamilyLive(familyId, alice.id)).toBe(true);
        await storage.refreshTokens.revokeFamily(familyId);
        expect(await storage.refreshTokens.isFamilyLive(familyId, alice.id)).toBe(false);
        const expired = randomUUID();
        await storage.refreshTokens.create({ userId: alice.id, familyId: expired, tokenHash: `l3-${expired}`, expiresAt: new Date(Date.now() - 1000) });
        expect(await storage.refreshTokens.isFamilyLive(expired, alice.id)).toBe(false);
        expect(await storage.refreshTokens.isFamilyLive('nope', alice.id)).toBe(false);
      });
      it('revokes all of a user and nobody else', async () => {
        const a = await storage.refreshTokens.create({ userId: alice.id, familyId: randomUUID(), tokenHash: `a-${randomUUID()}`, expiresAt: expiresAt() });
        const b = await storage.refreshTokens.create({ userId: bob.id, familyId: randomUUID(), tokenHash: `b-${randomUUID()}`, expiresAt: expiresAt() });
        expect(await storage.refreshTokens.revokeAllForUser(alice.id)).toBeGreaterThanOrEqual(1);
        expect(await storage.refreshTokens.rotate(a.id, randomUUID())).toBe(false);
        expect(await storage.refreshTokens.rotate(b.id, randomUUID())).toBe(true);
      });
      it('treats bad ids as absent and rejects bad input', async () => {
        expect(await storage.refreshTokens.findByHash('')).toBeNull();
        expect(await storage.refreshTokens.rotate('nope', randomUUID())).toBe(false);
        expect(await storage.refreshTokens.revokeFamily('nope')).toBe(0);
        await expect(
          storage.refreshTokens.create({ userId: alice.id, familyId: 'nope', tokenHash: 'x', expiresAt: expiresAt() }),
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(
          storage.refreshTokens.create({ userId: randomUUID(), familyId: randomUUID(), tokenHash: 'y', expiresAt: expiresAt() }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('sessions', () => {
      it('creates, lists newest first with paging, renames and touches', async () => {
        const user = await storage.users.create({ email: `s-${randomUUID()}@example.com`, passwordHash: 'x' });
        // Apart in time: the embedded database's clock can give quick successive writes one timestamp.
        const tick = () => new Promise((r) => setTimeout(r, 5));
        const s1 = await storage.sessions.create(user.id, { title: 'first' });
        await tick();
        const s2 = await storage.sessions.create(user.id);
        await tick();
        const s3 = await storage.sessions.create(user.id, { title: 'third' });
        expect(s2.title).toBeNull();
        expect((await storage.sessions.list(user.id)).map((s) => s.id)).toEqual([s3.id, s2.id, s1.id]);
        const page1 = await storage.sessions.list(user.id, { limit: 2 });
        expect(page1.map((s) => s.id)).toEqual([s3.id, s2.id]);
        expect((await storage.sessions.list(user.id, { limit: 2, before: s2.id })).map((s) => s.id)).toEqual([s1.id]);

        const renamed = await storage.sessions.update(user.id, s1.id, { title: 'renamed' });
        expect(renamed?.title).toBe('renamed');
        expect(renamed!.updatedAt >= s1.updatedAt).toBe(true);
        await tick();
        await storage.sessions.touch(s2.id);
        expect((await storage.sessions.list(user.id))[0].id).toBe(s2.id);
      });
      it("never shows, changes or deletes another user's session", async () => {
        const mine = await storage.sessions.create(alice.id, { title: 'private' });
        expect(await storage.sessions.get(bob.id, mine.id)).toBeNull();
        expect(await storage.sessions.update(bob.id, mine.id, { title: 'pwned' })).toBeNull();
        expect(await storage.sessions.delete(bob.id, mine.id)).toBe(false);
        expect((await storage.sessions.list(bob.id)).map((s) => s.id)).not.toContain(mine.id);
        expect(await storage.sessions.get(alice.id, mine.id)).toEqual(mine);
      });
      it('reserves seq numbers in blocks, never lower than before', async () => {
        const s = await storage.sessions.create(alice.id);
        expect(await storage.sessions.reserveSeq(s.id, 0, 100)).toEqual({ floor: 0, ceiling: 100 });
        expect(await storage.sessions.reserveSeq(s.id, 150, 100)).toEqual({ floor: 100, ceiling: 250 });
        expect(await storage.sessions.reserveSeq(s.id, 10, 100)).toEqual({ floor: 250, ceiling: 350 });
        const both = await Promise.all([storage.sessions.reserveSeq(s.id, 0, 10), storage.sessions.reserveSeq(s.id, 0, 10)]);
        expect(both.map((r) => r!.ceiling).sort()).toEqual([360, 370]);
        expect(await storage.sessions.reserveSeq(randomUUID(), 0, 10)).toBeNull();
        expect(await storage.sessions.reserveSeq('nope', 0, 10)).toBeNull();
        await expect(storage.sessions.reserveSeq(s.id, -1, 10)).rejects.toBeInstanceOf(InvalidInputError);
      });
      it('answers null/false/[] for ids that are not uuids', async () => {
        expect(await storage.sessions.get(alice.id, 'not-a-uuid')).toBeNull();
        expect(await storage.sessions.get('x', randomUUID())).toBeNull();
        expect(await storage.sessions.update(alice.id, '1; DROP TABLE sessions', { title: 't' })).toBeNull();
        expect(await storage.sessions.delete(alice.id, '42')).toBe(false);
        expect(await storage.sessions.list('nope')).toEqual([]);
        await storage.sessions.touch('nope');
        await expect(storage.sessions.list(alice.id, { before: 'nope' })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.sessions.list(alice.id, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.sessions.create(randomUUID())).rejects.toBeInstanceOf(NotFoundError);
      });
      it('deletes a session with its transcript and its checkpoints', async () => {
        const session = await storage.sessions.create(alice.id);
        await storage.messages.append({ sessionId: session.id, runId: 'r1', role: 'user', content: 'hi' });
        const saver = createCheckpointer(storage);
        const config = { configurable: { thread_id: session.id, checkpoint_ns: '' } };
        await saver.put(config, emptyCheckpoint(), { source: 'input', step: -1, parents: {} }, {});
        expect(await saver.getTuple(config)).toBeDefined();

        expect(await storage.sessions.delete(alice.id, session.id)).toBe(true);
        expect(await storage.sessions.get(alice.id, session.id)).toBeNull();
        expect((await storage.messages.list(session.id)).messages).toEqual([]);
        expect(await saver.getTuple(config)).toBeUndefined();
        expect(await storage.sessions.delete(alice.id, session.id)).toBe(false);
      });
    });

    describe('messages', () => {
      it('pages backwards; each page is chronological', async () => {
        const session = await storage.sessions.create(alice.id);
        const ids: string[] = [];
        for (let i = 1; i <= 5; i++) {
          const m = await storage.messages.append({
            sessionId: session.id,
            runId: `run-${i}`,
            role: i % 2 ? 'user' : 'assistant',
            content: `m${i}`,
            seqFrom: i * 10,
            seqTo: i * 10 + 3,
            ...(i % 2 ? { clientMessageId: `c${i}` } : {}),
          });
          ids.push(m.id);
        }
        const page1 = await storage.messages.list(session.id, { limit: 2 });
        expect(page1.messages.map((m) => m.content)).toEqual(['m4', 'm5']);
        expect(page1.nextCursor).toBe(ids[3]);
        const page2 = await storage.messages.list(session.id, { limit: 2, before: page1.nextCursor! });
        expect(page2.messages.map((m) => m.content)).toEqual(['m2', 'm3']);
        const page3 = await storage.messages.list(session.id, { limit: 2, before: page2.nextCursor! });
        expect(page3).toEqual({ messages: [expect.objectContaining({ content: 'm1', seqFrom: 10, seqTo: 13, clientMessageId: 'c1' })], nextCursor: null });
        expect((await storage.messages.list(session.id)).messages).toHaveLength(5);
      });
      it('stores tool messages and rejects bad input clearly', async () => {
        const session = await storage.sessions.create(alice.id);
        const tool = await storage.messages.append({ sessionId: session.id, runId: 'r', role: 'tool', content: '{"x":1}', toolName: 'calculator' });
        expect(tool).toMatchObject({ role: 'tool', toolName: 'calculator', seqFrom: null, clientMessageId: null });
        await expect(storage.messages.append({ sessionId: randomUUID(), runId: 'r', role: 'user', content: 'x' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.messages.append({ sessionId: 'nope', runId: 'r', role: 'user', content: 'x' })).rejects.toBeInstanceOf(NotFoundError);
        await expect(
          storage.messages.append({ sessionId: session.id, runId: 'r', role: 'system' as 'user', content: 'x' }),
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.messages.append({ sessionId: session.id, runId: 'r', role: 'user', content: 'x', seqFrom: -1 })).rejects.toBeInstanceOf(InvalidInputError);
        await storage.messages.append({ sessionId: session.id, runId: 'r', role: 'user', content: 'x', clientMessageId: 'dup' });
        await expect(
          storage.messages.append({ sessionId: session.id, runId: 'r2', role: 'user', content: 'x', clientMessageId: 'dup' }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await storage.messages.list('nope')).toEqual({ messages: [], nextCursor: null });
        await expect(storage.messages.list(session.id, { before: 'nope' })).rejects.toBeInstanceOf(InvalidInputError);
      });
    });

    describe('runs', () => {
      it('records a finished run in one step: user seq range, tool and assistant rows, usage, title only when untitled', async () => {
        const session = await storage.sessions.create(alice.id);
        await storage.messages.append({ sessionId: session.id, runId: 'run-1', role: 'user', content: 'hi', clientMessageId: 'c1' });
        await storage.runs.record({
          userId: alice.id,
          sessionId: session.id,
          runId: 'run-1',
          userSeq: { from: 1, to: 1 },
          rows: [
            { role: 'tool', content: '4', toolName: 'calculator' },
            { role: 'assistant', content: 'four', seqFrom: 2, seqTo: 9 },
          ],
          usage: { day: '2025-03-04', tokens: 12 },
          title: 'hi there',
        });
        const { messages } = await storage.messages.list(session.id);
        expect(messages.map((m) => [m.role, m.content, m.seqFrom, m.seqTo, m.toolName])).toEqual([
          ['user', 'hi', 1, 1, null],
          ['tool', '4', null, null, 'calculator'],
          ['assistant', 'four', 2, 9, null],
        ]);
        expect(await storage.usage.get(alice.id, '2025-03-04')).toBe(12);
        expect((await storage.sessions.get(alice.id, session.id))?.title).toBe('hi there');
        await storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'run-2', rows: [], usage: { day: '2025-03-04', tokens: 3 }, title: 'other' });
        expect((await storage.sessions.get(alice.id, session.id))?.title).toBe('hi there');
        expect(await storage.usage.get(alice.id, '2025-03-04')).toBe(15);
      });

      it('adds the run spend to the same (user, day, model) row as spend.add, and none for a refused session', async () => {
        const session = await storage.sessions.create(alice.id);
        const spend = { day: '2025-04-01', model: 'mini', inputTokens: 10, outputTokens: 5, costNanos: 1500, cached: false };
        await storage.spend.add({ ...spend, userId: alice.id });
        await storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'run-s1', rows: [], spend });
        await storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'run-s2', rows: [], spend: { ...spend, costNanos: 0, inputTokens: 0, outputTokens: 0, cached: true } });
        await expect(storage.runs.record({ userId: bob.id, sessionId: session.id, runId: 'run-s3', rows: [], spend })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'run-s4', rows: [], spend: { ...spend, costNanos: -1 } })).rejects.toBeInstanceOf(InvalidInputError);
        expect((await storage.spend.list(alice.id, '2025-04-01')).filter((r) => r.day === '2025-04-01')).toEqual([
          { day: '2025-04-01', model: 'mini', inputTokens: 20, outputTokens: 10, costNanos: 3000, runs: 3, cachedRuns: 1 },
        ]);
        expect((await storage.spend.list(bob.id, '2025-04-01')).filter((r) => r.day === '2025-04-01')).toEqual([]);
      });

      it("refuses another user's session, unknown sessions and bad rows, writing nothing", async () => {
        const session = await storage.sessions.create(alice.id);
        const rows = [{ role: 'assistant' as const, content: 'x' }];
        await expect(storage.runs.record({ userId: bob.id, sessionId: session.id, runId: 'r', rows, usage: { day: '2025-03-05', tokens: 5 } })).rejects.toBeInstanceOf(NotFoundError);
        expect(await storage.usage.get(bob.id, '2025-03-05')).toBe(0);
        await expect(storage.runs.record({ userId: alice.id, sessionId: randomUUID(), runId: 'r', rows })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.runs.record({ userId: alice.id, sessionId: 'nope', runId: 'r', rows })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'r', rows: [{ role: 'user' as 'tool', content: 'x' }] })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'r', rows, usage: { day: '2025-02-30', tokens: 1 } })).rejects.toBeInstanceOf(InvalidInputError);
        expect((await storage.messages.list(session.id)).messages).toEqual([]);
      });
    });

    describe('runEnds', () => {
      const openRun = (sessionId: string, runId: string) =>
        storage.messages.append({ sessionId, runId, role: 'user', content: `q ${runId}`, clientMessageId: `c-${runId}`, opensRun: true });
      const unendedIn = async (sessionId: string, olderThanMs = 0) => (await storage.runEnds.unended(olderThanMs, 1000)).filter((r) => r.sessionId === sessionId).map((r) => r.runId);

      it('runEnds#unended: a send opens its run, its record ends it; plain rows open nothing', async () => {
        const session = await storage.sessions.create(alice.id);
        await openRun(session.id, 'e1');
        await openRun(session.id, 'e2');
        await storage.messages.append({ sessionId: session.id, runId: 'e3', role: 'user', content: 'no run' });
        expect(await unendedIn(session.id)).toEqual(['e1', 'e2']);
        expect((await storage.runEnds.unended(0, 1000)).find((r) => r.runId === 'e1')).toEqual({ sessionId: session.id, runId: 'e1', text: 'q e1', clientMessageId: 'c-e1' });
        expect(await unendedIn(session.id, 3_600_000)).toEqual([]); // none is an hour old
        expect(await storage.runEnds.ended(session.id, 'e1')).toBe(false);
        await storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'e1', userSeq: { from: 5, to: 5 }, rows: [] });
        expect(await unendedIn(session.id)).toEqual(['e2']);
        expect(await storage.runEnds.ended(session.id, 'e1')).toBe(true);
        expect(await storage.runEnds.ended(session.id, 'e2')).toBe(false);
        expect(await storage.runEnds.ended(session.id, 'unknown')).toBe(false);
        expect(await storage.runEnds.ended('not-a-uuid', 'e1')).toBe(false);
        expect((await storage.runEnds.unended(0, 1)).length).toBe(1);
        await expect(storage.runEnds.unended(-1, 10)).rejects.toBeInstanceOf(InvalidInputError);
      });

      it('runEnds#discard: a refused send leaves no row and no open run; an ended run keeps its rows', async () => {
        const session = await storage.sessions.create(alice.id);
        await openRun(session.id, 'refused');
        await openRun(session.id, 'kept');
        await storage.runs.record({ userId: alice.id, sessionId: session.id, runId: 'kept', rows: [{ role: 'assistant', content: 'a' }] });
        await storage.runEnds.discard(session.id, 'refused');
        await storage.runEnds.discard(session.id, 'kept');
        await storage.runEnds.discard(session.id, 'unknown');
        await storage.runEnds.discard('not-a-uuid', 'refused');
        expect(await unendedIn(session.id)).toEqual([]);
        expect((await storage.messages.list(session.id)).messages.map((m) => [m.runId, m.role])).toEqual([
          ['kept', 'user'],
          ['kept', 'assistant'],
        ]);
      });

      it('runEnds#record: a run recorded twice (its node and a lost-run completion, in either order or at once) has its rows once', async () => {
        const session = await storage.sessions.create(alice.id);
        await openRun(session.id, 'twice');
        const first = { userId: alice.id, sessionId: session.id, runId: 'twice', userSeq: { from: 1, to: 1 }, rows: [{ role: 'assistant' as const, content: 'answer', seqFrom: 2, seqTo: 4 }] };
        await storage.runs.record(first);
        await storage.runs.record({ ...first, userSeq: { from: 9, to: 9 }, rows: [{ role: 'assistant', content: 'again', seqFrom: 10, seqTo: 12 }], usage: { day: '2025-05-06', tokens: 2 } });
        await openRun(session.id, 'racing');
        const racing = { userId: alice.id, sessionId: session.id, runId: 'racing', rows: [{ role: 'assistant' as const, content: 'raced' }] };
        await Promise.all([storage.runs.record(racing), storage.runs.record(racing), storage.runs.record(racing)]);
        const { messages } = await storage.messages.list(session.id);
        expect(messages.map((m) => [m.runId, m.role, m.content, m.seqFrom])).toEqual([
          ['twice', 'user', 'q twice', 1],
          ['twice', 'assistant', 'answer', 2],
          ['racing', 'user', 'q racing', null],
          ['racing', 'assistant', 'raced', null],
        ]);
        expect(await storage.usage.get(alice.id, '2025-05-06')).toBe(2); // usage is still charged
        expect(await unendedIn(session.id)).toEqual([]);
      });
    });

    describe('usage', () => {
      it('adds per user and UTC day', async () => {
        expect(await storage.usage.get(alice.id, '2025-01-02')).toBe(0);
        expect(await storage.usage.add(alice.id, '2025-01-02', 100)).toBe(100);
        expect(await storage.usage.add(alice.id, '2025-01-02', 23)).toBe(123);
        expect(await storage.usage.get(alice.id, '2025-01-02')).toBe(123);
        expect(await storage.usage.get(alice.id, '2025-01-03')).toBe(0);
        expect(await storage.usage.get(bob.id, '2025-01-02')).toBe(0);
        await expect(storage.usage.add(alice.id, '2025-02-30', 1)).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.usage.add(alice.id, '2025-01-02', -1)).rejects.toBeInstanceOf(InvalidInputError);
      });
    });

    describe('spend', () => {
      it('adds runs per user, day and model, and sums a user and the deployment', async () => {
        const base = { day: '2025-05-06', inputTokens: 10, outputTokens: 5, cached: false };
        await storage.spend.add({ ...base, userId: alice.id, model: 'mini', costNanos: 1500 });
        await storage.spend.add({ ...base, userId: alice.id, model: 'mini', costNanos: 500 });
        await storage.spend.add({ ...base, userId: alice.id, model: 'big', costNanos: 7000 });
        await storage.spend.add({ ...base, userId: alice.id, model: 'big', costNanos: 0, inputTokens: 0, outputTokens: 0, cached: true });
        await storage.spend.add({ ...base, userId: bob.id, model: 'mini', costNanos: 1000, day: '2025-05-05' });
        expect(await storage.spend.list(alice.id, '2025-05-01')).toEqual([
          { day: '2025-05-06', model: 'big', inputTokens: 10, outputTokens: 5, costNanos: 7000, runs: 2, cachedRuns: 1 },
          { day: '2025-05-06', model: 'mini', inputTokens: 20, outputTokens: 10, costNanos: 2000, runs: 2, cachedRuns: 0 },
        ]);
        expect(await storage.spend.list(alice.id, '2025-05-07')).toEqual([]);
        expect(await storage.spend.list(bob.id, '2025-05-01')).toHaveLength(1);
        expect(await storage.spend.userTotal(alice.id, '2025-05-06')).toBe(9000);
        expect(await storage.spend.userTotal(bob.id, '2025-05-06')).toBe(0);
        expect(await storage.spend.globalTotal('2025-05-06')).toBe(9000);
        expect(await storage.spend.globalTotal('2025-05-05')).toBe(1000);
      });
      it('rejects bad input clearly and unknown users as not found', async () => {
        const base = { userId: alice.id, day: '2025-05-06', model: 'mini', inputTokens: 1, outputTokens: 1, costNanos: 1, cached: false };
        await expect(storage.spend.add({ ...base, costNanos: -1 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.spend.add({ ...base, inputTokens: 1.5 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.spend.add({ ...base, model: '' })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.spend.add({ ...base, day: 'May 6' })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.spend.add({ ...base, userId: randomUUID() })).rejects.toBeInstanceOf(NotFoundError);
        expect(await storage.spend.list('nope', '2025-05-01')).toEqual([]);
      });
    });

    describe('questions', () => {
      it('finds the nearest unexpired question of the same user and tier only', async () => {
        const answer = (a: string) => JSON.stringify({ model: 'mini', steps: [{ text: a }] });
        await storage.questions.add(alice.id, { tier: 'fast', question: 'owls?', embedding: [1, 0, 0], answer: answer('owl'), ttlMs: 60_000 });
        await storage.questions.add(alice.id, { tier: 'fast', question: 'cats?', embedding: [0, 1, 0], answer: answer('cat'), ttlMs: 60_000 });
        await storage.questions.add(alice.id, { tier: 'smart', question: 'owls, smart', embedding: [1, 0, 0], answer: answer('smart owl'), ttlMs: 60_000 });
        await storage.questions.add(alice.id, { tier: 'fast', question: 'gone', embedding: [0, 0, 1], answer: answer('gone'), ttlMs: 1 });
        await new Promise((r) => setTimeout(r, 20));
        const near = await storage.questions.nearest(alice.id, 'fast', [0.9, 0.1, 0]);
        expect(near).toMatchObject({ question: 'owls?', answer: answer('owl') });
        expect(near!.score).toBeGreaterThan(0.95);
        expect((await storage.questions.nearest(alice.id, 'smart', [0.9, 0.1, 0]))?.question).toBe('owls, smart');
        expect((await storage.questions.nearest(alice.id, 'fast', [0, 0, 1]))?.question).not.toBe('gone');
        expect(await storage.questions.nearest(bob.id, 'fast', [1, 0, 0])).toBeNull();
        expect(await storage.questions.nearest(alice.id, 'fast', [1, 0])).toBeNull();
        await expect(storage.questions.add(alice.id, { tier: 'fast', question: '', embedding: [1], answer: '', ttlMs: 1 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.questions.add(randomUUID(), { tier: 'fast', question: 'q', embedding: [1], answer: '', ttlMs: 1 })).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('feedback', () => {
      it('stores one vote per user and run, the last one wins, and knows which runs a session has', async () => {
        const session = await storage.sessions.create(alice.id);
        await storage.messages.append({ sessionId: session.id, runId: 'run-1', role: 'user', content: 'hi' });
        expect(await storage.feedback.hasRun(session.id, 'run-1')).toBe(true);
        expect(await storage.feedback.hasRun(session.id, 'run-2')).toBe(false);
        expect(await storage.feedback.hasRun('nope', 'run-1')).toBe(false);
        expect(await storage.feedback.get(alice.id, 'run-1')).toBeNull();
        await storage.feedback.record({ userId: alice.id, sessionId: session.id, runId: 'run-1', score: 1 });
        await storage.feedback.record({ userId: alice.id, sessionId: session.id, runId: 'run-1', score: -1, comment: 'wrong total', traceId: 'abc' });
        expect(await storage.feedback.get(alice.id, 'run-1')).toEqual({ score: -1, comment: 'wrong total', traceId: 'abc' });
        expect(await storage.feedback.get(bob.id, 'run-1')).toBeNull();
      });
      it('rejects bad input clearly and unknown sessions as not found', async () => {
        const session = await storage.sessions.create(alice.id);
        const base = { userId: alice.id, sessionId: session.id, runId: 'r' };
        await expect(storage.feedback.record({ ...base, score: 0 as 1 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.feedback.record({ ...base, score: 1, comment: 'x'.repeat(1001) })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.feedback.record({ ...base, score: 1, comment: 'a\u0000b' })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.feedback.record({ ...base, runId: '', score: 1 })).rejects.toBeInstanceOf(InvalidInputError);
        await expect(storage.feedback.record({ ...base, sessionId: randomUUID(), score: 1 })).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.feedback.record({ ...base, sessionId: 'nope', score: 1 })).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    it('pings', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });
  });
}
