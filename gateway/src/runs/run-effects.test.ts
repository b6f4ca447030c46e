import { createLimiters } from '../limits/limiters.js';
import { openStorage } from '../backends/postgres/open-storage.js';
import type { Storage, User } from '../backends/postgres/types.js';
import type { Limiters } from '../ports.js';
import { createRunEffects } from './run-effects.js';

let storage: Storage;
let user: User;
beforeAll(async () => {
  storage = await openStorage();
  user = await storage.users.create({ email: 'effects@example.com', passwordHash: 'h' });
});
afterAll(async () => {
  await storage?.close();
});

const day = () => new Date().toISOString().slice(0, 10);

const finished = (sessionId: string, runId: string) => ({
  userId: user.id,
  sessionId,
  runId,
  clientMessageId: `c-${runId}`,
  text: 'a question',
  answer: 'the answer',
  tools: [],
  done: { type: 'done' as const, sessionId, runId, reason: 'stop' as const, usage: { inputTokens: 7, outputTokens: 5 } },
  seqFrom: 1,
  seqTo: 3,
});

describe('run effects', () => {
  it('afterRun: a token budget that cannot be charged (Redis away) still records the run and counts its usage', async () => {
    const real = createLimiters();
    const limiters: Limiters = { ...real, tokens: { ...real.tokens, consume: () => Promise.reject(new Error('Redis away')) } };
    const effects = createRunEffects({ storage, limiters });
    const session = await storage.sessions.create(user.id);
    const before = await storage.usage.get(user.id, day());
    await effects.accepted({ userId: user.id, sessionId: session.id, runId: 'r-budget', clientMessageId: 'c-r-budget', text: 'a question' });
    await effects.afterRun(finished(session.id, 'r-budget'));
    expect(await storage.runEnds.ended(session.id, 'r-budget')).toBe(true);
    expect((await storage.messages.list(session.id)).messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'a question'],
      ['assistant', 'the answer'],
    ]);
    expect(await storage.usage.get(user.id, day())).toBe(before + 12);
  });

  it('accepted: a user row whose write landed but whose reply was lost is removed when the send is refused', async () => {
    const lostReply: Storage = {
      ...storage,
      messages: {
        ...storage.messages,
        append: async (input) => {
          await storage.messages.append(input);
          throw new Error('connection reset after the commit');
        },
      },
    };
    const effects = createRunEffects({ storage: lostReply, limiters: createLimiters() });
    const session = await storage.sessions.create(user.id);
    await expect(effects.accepted({ userId: user.id, sessionId: session.id, runId: 'r-refused', clientMessageId: 'c1', text: 'hi' })).rejects.toThrow('connection reset');
    expect((await storage.messages.list(session.id)).messages).toEqual([]);
    expect((await storage.runEnds.unended(0, 1000)).filter((r) => r.sessionId === session.id)).toEqual([]);
  });
});
