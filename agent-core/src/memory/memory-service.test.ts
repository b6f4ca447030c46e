import { RunnableConfig } from '@langchain/core/runnables';
import { createInMemoryStore } from './in-memory-store.js';
import { createLocalEmbedder } from './local-embedder.js';
import { createMemory } from './memory-service.js';
import { createMemoryTools } from './tools.js';
import type { MemoryStore } from './types.js';

const turn = (userId: string, userText: string) => ({ userId, sessionId: 's1', userText, answer: 'ok' });

describe('memory service', () => {
  it('bounds the work of one turn: the recall query and the facts stored per turn', async () => {
    const local = createLocalEmbedder();
    const embedded: string[] = [];
    const embedder = { ...local, embed: (texts: string[], signal?: AbortSignal) => (embedded.push(...texts), local.embed(texts, signal)) };
    const seen: Array<{ userText: string; answer: string }> = [];
    const extractor = {
      extract: (t: { userText: string; answer: string }) => {
        seen.push(t);
        return Promise.resolve(Array.from({ length: 20 }, (_, i) => `distinct fact number ${i} about ${'xyz'.repeat(i)}`));
      },
    };
    const memory = createMemory({ store: createInMemoryStore(), embedder, extractor, dedupThreshold: 1.01 });
    await memory.recall('alice', 'q'.repeat(50_000));
    expect(embedded[0].length).toBe(2_000);
    memory.afterTurn({ userId: 'alice', sessionId: 's', userText: 'u'.repeat(50_000), answer: 'a'.repeat(50_000) });
    await memory.drain();
    expect(seen[0].userText.length).toBe(4_000);
    expect(seen[0].answer.length).toBe(4_000);
    expect(memory.stats().stored).toBe(5);
  });

  it('extracts facts after a turn, off the caller, and recalls them for that user only', async () => {
    const memory = createMemory({ store: createInMemoryStore(), embedder: createLocalEmbedder() });
    expect(memory.afterTurn(turn('alice', 'Remember that my favourite colour is teal.'))).toBe(true);
    expect(memory.stats().stored).toBe(0); // nothing ran synchronously
    await memory.drain();
    expect(memory.stats()).toMatchObject({ queueDepth: 0, stored: 1, dropped: 0 });
    expect(await memory.recall('alice', 'what is my favourite colour?')).toEqual(['my favourite colour is teal']);
    expect(await memory.recall('bob', 'what is my favourite colour?')).toEqual([]);
    expect(await memory.recall('alice', '   ')).toEqual([]);
  });

  it('skips near-duplicates by similarity', async () => {
    const store = createInMemoryStore();
    const memory = createMemory({ store, embedder: createLocalEmbedder(), dedupThreshold: 0.9 });
    expect(await memory.remember('alice', 'my favourite colour is teal')).toMatchObject({ stored: true });
    expect(await memory.remember('alice', 'My favourite colour is teal.')).toMatchObject({ stored: false });
    memory.afterTurn(turn('alice', 'remember that my favourite colour is teal'));
    await memory.drain();
    expect(await store.list('alice')).toHaveLength(1);
    expect(memory.stats()).toMatchObject({ stored: 1, duplicates: 2 });
    expect(await memory.remember('bob', 'my favourite colour is teal')).toMatchObject({ stored: true });
  });

  it('drops and counts when the queue is full, without blocking', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = createInMemoryStore();
    const stuck: MemoryStore = { ...inner, search: async (...args) => (await gate, inner.search(...args)) };
    const warnings: string[] = [];
    const memory = createMemory({ store: stuck, embedder: createLocalEmbedder(), queueSize: 2, logger: { warn: (m) => warnings.push(m) } });
    const accepted = Array.from({ length: 5 }, (_, i) => memory.afterTurn(turn('alice', `I like sport number ${i}`)));
    expect(accepted).toEqual([true, true, false, false, false]);
    expect(memory.stats()).toMatchObject({ dropped: 3, queueDepth: 2 });
    expect(warnings).toHaveLength(3);
    release();
    await memory.drain();
    expect(memory.stats()).toMatchObject({ queueDepth: 0, stored: 2, dropped: 3 });
  });

  it('counts a failing store and keeps going', async () => {
    const inner = createInMemoryStore();
    let fail = true;
    const flaky: MemoryStore = {
      ...inner,
      add: async (...args) => {
        if (fail) throw new Error('database down');
        return inner.add(...args);
      },
    };
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const memory = createMemory({ store: flaky, embedder: createLocalEmbedder(), logger: { warn: (_m, meta) => warnings.push(meta) } });
    memory.afterTurn(turn('alice', 'I live in Oslo'));
    await memory.drain();
    fail = false;
    memory.afterTurn(turn('alice', 'I live in Bergen now'));
    await memory.drain();
    expect(memory.stats()).toMatchObject({ failed: 1, stored: 1 });
    expect(JSON.stringify(warnings)).not.toContain('Oslo');
  });
});

describe('memory tools', () => {
  const memory = createMemory({ store: createInMemoryStore(), embedder: createLocalEmbedder() });
  const [remember, recall] = createMemoryTools(memory);
  const as = (userId: string): RunnableConfig => ({ configurable: { userId } });

  it('remember and recall act for configurable.userId only', async () => {
    expect(remember.name).toBe('remember');
    expect(recall.name).toBe('recall');
    expect(await remember.invoke({ fact: 'my dog is called Rex' }, as('alice'))).toBe('Remembered: my dog is called Rex');
    expect(await remember.invoke({ fact: 'my dog is called Rex' }, as('alice'))).toBe('Already remembered: my dog is called Rex');
    expect(await recall.invoke({ query: "what is my dog's name" }, as('alice'))).toBe('my dog is called Rex');
    expect(await recall.invoke({ query: "what is my dog's name" }, as('bob'))).toBe('');
  });

  it('refuses to run without a user and validates arguments', async () => {
    await expect(remember.invoke({ fact: 'x y' })).rejects.toThrow(/userId/);
    await expect(remember.invoke({ fact: '' }, as('alice'))).rejects.toThrow();
    await expect(recall.invoke({} as { query: string }, as('alice'))).rejects.toThrow();
  });
});
