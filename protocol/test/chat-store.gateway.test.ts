import { getChatStore } from '../src/chat-store.js';
import type { ChatSnapshot } from '../src/chat-store.js';
import { memoryStorage } from '../src/storage.js';
import { appClient, startGateway, until, type TestGateway } from './support/gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startGateway();
});
afterAll(() => t.stop());

/** The transcript as a fresh client rebuilds it from the whole log. */
async function reference(token: string, sessionId: string): Promise<ChatSnapshot> {
  const c = appClient(t, { token, storage: null });
  await c.connect();
  const store = getChatStore(c, sessionId);
  const release = store.retain();
  await until(() => store.getSnapshot().joined && store.getSnapshot().status !== 'streaming' && store.getSnapshot().lastSeq > 0, 'the replay');
  const snap = store.getSnapshot();
  release();
  c.close();
  return snap;
}

describe('chat store against a gateway', () => {
  it('shows two tabs on one session the same messages, whichever tab sends', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const storage = memoryStorage(); // tabs of one browser share localStorage
    const tabs = [appClient(t, { token: u.token, storage }), appClient(t, { token: u.token, storage })];
    await Promise.all(tabs.map((c) => c.connect()));
    const stores = tabs.map((c) => getChatStore(c, sessionId));
    const releases = stores.map((s) => s.retain());
    await until(() => stores.every((s) => s.getSnapshot().joined), 'both tabs joined');
    const statuses = new Set<string>();
    stores[1]!.subscribe(() => statuses.add(stores[1]!.getSnapshot().status));
    expect(stores[0]!.send('What is 12*(3+4)?')).not.toBeNull();
    await until(() => stores.every((s) => s.getSnapshot().lastSeq > 0 && s.getSnapshot().status === 'idle'), 'the answer in both tabs');
    const [a, b] = stores.map((s) => s.getSnapshot());
    expect(b!.messages).toEqual(a!.messages);
    expect(statuses.has('streaming')).toBe(true);
    expect(a!.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(a!.messages[1]).toMatchObject({ status: 'done', reason: 'stop' });
    // The second tab sends the next turn; the first sees it.
    stores[1]!.send('What is 5*5?');
    await until(() => stores.every((s) => s.getSnapshot().messages.length === 4 && s.getSnapshot().status === 'idle'), 'the second answer');
    expect(stores[0]!.getSnapshot().messages).toEqual(stores[1]!.getSnapshot().messages);
    expect(stores[0]!.getSnapshot().messages).toEqual((await reference(u.token, sessionId)).messages);
    releases.forEach((r) => r());
    tabs.forEach((c) => c.close());
  });

  it('continues an answer after a reload mid-stream with nothing lost or doubled', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const storage = memoryStorage();
    const page1 = appClient(t, { token: u.token, storage });
    await page1.connect();
    const store1 = getChatStore(page1, sessionId);
    store1.retain();
    await until(() => store1.getSnapshot().joined, 'joined');
    store1.send('give me a long answer');
    await until(() => store1.getSnapshot().streamingText.length > 40, 'part of the answer');
    await new Promise((r) => setTimeout(r, 350)); // let the throttled save happen, as a page does while it streams
    page1.dropConnection(); // the page dies: no release, no close
    page1.close();
    const page2 = appClient(t, { token: u.token, storage });
    await page2.connect();
    const store2 = getChatStore(page2, sessionId);
    const restored = store2.getSnapshot();
    expect(restored.messages[0]).toMatchObject({ role: 'user', text: 'give me a long answer' });
    expect(restored.streamingText.length).toBeGreaterThan(0);
    store2.retain();
    await until(() => store2.getSnapshot().joined && store2.getSnapshot().status === 'idle', 'the rest of the answer');
    const ref = await reference(u.token, sessionId);
    expect(store2.getSnapshot().messages).toEqual(ref.messages);
    page2.close();
  });

  it('reports a refused send as an error and keeps the transcript clean', async () => {
    const u = await t.user();
    const sessionId = await t.session(u.token);
    const c = appClient(t, { token: u.token });
    await c.connect();
    const store = getChatStore(c, sessionId);
    store.retain();
    await until(() => store.getSnapshot().joined, 'joined');
    expect(store.send('€'.repeat(25_000))).toBeNull();
    expect(store.getSnapshot()).toMatchObject({ status: 'error', messages: [] });
    expect(store.getSnapshot().error?.code).toBe('too_large');
    store.send('give me a long answer');
    await until(() => store.getSnapshot().status === 'streaming', 'the run');
    expect(store.getSnapshot().error).toBeNull();
    store.send('me too'); // busy: one run per session
    await until(() => store.getSnapshot().error?.code === 'busy', 'busy');
    expect(store.getSnapshot().messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(['give me a long answer']);
    store.cancel();
    await until(() => store.getSnapshot().activeRunId === null, 'the cancel');
    expect(store.getSnapshot().messages[1]).toMatchObject({ reason: 'cancelled' });
    c.close();
  });
});
