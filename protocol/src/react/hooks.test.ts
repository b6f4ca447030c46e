import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { SwitchboardClient, type WebSocketLike } from '../client.js';
import { getChatStore } from '../chat-store.js';
import { memoryStorage } from '../storage.js';
import { emptyChat, reduceChat } from '../chat-state.js';
import { SwitchboardProvider, useChatSession, useSwitchboard } from './hooks.js';

function Chat(props: { sessionId: string }) {
  const chat = useChatSession(props.sessionId);
  return createElement(
    'div',
    { 'data-status': chat.status, 'data-can-send': String(chat.canSend), 'data-connection': chat.connection },
    chat.messages.map((m) => createElement('p', { key: m.id, className: m.role }, m.text)),
    chat.streamingText && createElement('i', null, chat.streamingText),
  );
}

function Status(props: { client: SwitchboardClient }) {
  const { state, error } = useSwitchboard(props.client);
  return createElement('span', null, `${state}${error ? `: ${error.message}` : ''}`);
}

/** A component that creates its own client from options. */
function Own() {
  const { state, error } = useSwitchboard({ url: 'ws://127.0.0.1:9/v1/ws', storage: null });
  return createElement('span', null, `${state}${error ? `: ${error.message}` : ''}`);
}

/**
 * A server scripted by the test: answers `hello` and `join`, records the `send` frames and
 * otherwise says only what the test pushes.
 */
class ScriptedSocket implements WebSocketLike {
  static last: ScriptedSocket | null = null;
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sends: Array<{ id: string; sessionId: string }> = [];
  constructor() {
    ScriptedSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }
  push(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  send(data: string): void {
    const f = JSON.parse(data) as { type: string; id: string; sessionId: string };
    if (f.type === 'hello') {
      const limits = { maxFrameBytes: 65536, maxTextChars: 32000 };
      queueMicrotask(() => this.push({ type: 'ready', connectionId: 'c1', userId: 'u1', resume: 'r', resumed: false, heartbeatMs: 0, limits, node: 'n1' }));
    } else if (f.type === 'join') queueMicrotask(() => this.push({ type: 'joined', sessionId: f.sessionId, seq: 0, replayed: 0, gap: false }));
    else if (f.type === 'send') this.sends.push(f);
  }
  close(): void {
    this.readyState = 3;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('useChatSession (server render)', () => {
  it('canSend is false from send() until the run ends, before the server echoed anything', async () => {
    const client = new SwitchboardClient({ url: 'ws://scripted/v1/ws', storage: null, WebSocket: ScriptedSocket, reconnect: false });
    await client.connect();
    const server = ScriptedSocket.last!;
    const store = getChatStore(client, 's1');
    const release = store.retain();
    await tick();
    const render = () => renderToString(createElement(SwitchboardProvider, { client }, createElement(Chat, { sessionId: 's1' })));
    expect(render()).toContain('data-can-send="true"');

    const run = store.send('hello')!;
    // Nothing has come back yet: the message is only pending, but Send is already locked.
    expect(server.sends).toHaveLength(1);
    expect(store.getSnapshot()).toMatchObject({ sending: true, status: 'idle', activeRunId: null });
    expect(render()).toContain('data-can-send="false"');

    const base = { sessionId: 's1', runId: 'run1' };
    server.push({ type: 'ack', id: run.id, ...base });
    expect(render()).toContain('data-can-send="false"');
    server.push({ type: 'user', ...base, seq: 1, id: run.id, text: 'hello' });
    server.push({ type: 'token', ...base, seq: 2, text: 'Hi' });
    expect(render()).toContain('data-can-send="false"');
    server.push({ type: 'done', ...base, seq: 3, reason: 'stop' });
    await run.done;
    await tick();
    expect(store.getSnapshot()).toMatchObject({ sending: false, status: 'idle' });
    expect(render()).toContain('data-can-send="true"');

    // A send the server refuses unlocks again, with the reason.
    const refused = store.send('again')!;
    expect(render()).toContain('data-can-send="false"');
    server.push({ type: 'error', code: 'busy', message: 'a run is already streaming', retryable: true, ref: refused.id, sessionId: 's1' });
    await refused.done.catch(() => {});
    await tick();
    expect(store.getSnapshot()).toMatchObject({ sending: false, status: 'error' });
    expect(store.getSnapshot().error?.code).toBe('busy');
    expect(render()).toContain('data-can-send="true"');
    release();
    client.close();
  });


  it('a joined{gap} from a lost log fills the chat from the stored transcript, then goes on live, with no text twice', async () => {
    const client = new SwitchboardClient({ url: 'ws://scripted/v1/ws', storage: null, WebSocket: ScriptedSocket, reconnect: false });
    await client.connect();
    const server = ScriptedSocket.last!;
    const loaded: string[] = [];
    const store = getChatStore(client, 's-gap', {
      loadHistory: async (id) => {
        loaded.push(id);
        return [
          { runId: 'r1', role: 'user', content: 'hi', clientMessageId: 'm1' },
          { runId: 'r1', role: 'assistant', content: 'Hello there' },
        ];
      },
    });
    const release = store.retain();
    await tick();
    const base = { sessionId: 's-gap', runId: 'r1' };
    server.push({ type: 'user', ...base, seq: 1, id: 'm1', text: 'hi' });
    server.push({ type: 'token', ...base, seq: 2, text: 'Hel' });
    // The log was lost: the server says so and replays the new epoch, where r1 ended node_lost.
    server.push({ type: 'joined', sessionId: 's-gap', seq: 1001, replayed: 1, gap: true, epoch: 'e2' });
    server.push({ type: 'done', ...base, seq: 1001, reason: 'error', error: { code: 'node_lost', message: 'the node serving this run stopped' } });
    await tick();
    await tick();
    expect(loaded).toEqual(['s-gap']);
    const snap = store.getSnapshot();
    expect(snap.gap).toBe(false);
    expect(snap.messages.map((m) => `${m.role}:${m.text}`)).toEqual(['user:hi', 'assistant:Hello there']);
    // Live again: the next run folds in after the filled one.
    server.push({ type: 'user', sessionId: 's-gap', runId: 'r2', seq: 1002, id: 'm2', text: 'more' });
    server.push({ type: 'token', sessionId: 's-gap', runId: 'r2', seq: 1003, text: 'Sure' });
    expect(store.getSnapshot().messages.map((m) => m.text)).toEqual(['hi', 'Hello there', 'more', 'Sure']);
    release();
    client.close();
  });

  it('renders the transcript stored by an earlier page, streaming text included', () => {
    const storage = memoryStorage();
    let state = emptyChat('s1');
    state = reduceChat(state, { type: 'user', sessionId: 's1', runId: 'r1', seq: 1, id: 'm1', text: 'hi there' });
    state = reduceChat(state, { type: 'token', sessionId: 's1', runId: 'r1', seq: 2, text: 'Hello' });
    storage.setItem('switchboard.chat.s1', JSON.stringify(state));
    const client = new SwitchboardClient({ url: 'ws://127.0.0.1:9/v1/ws', storage });
    const html = renderToString(createElement(SwitchboardProvider, { client }, createElement(Chat, { sessionId: 's1' })));
    expect(html).toContain('<p class="user">hi there</p>');
    expect(html).toContain('<p class="assistant">Hello</p>');
    expect(html).toContain('<i>Hello</i>');
    expect(html).toContain('data-status="streaming"');
    expect(html).toContain('data-can-send="false"');
    expect(html).toContain('data-connection="disconnected"');
  });

  it('says clearly when no client is given', () => {
    expect(() => renderToString(createElement(Chat, { sessionId: 's1' }))).toThrow(/needs a client/);
  });

  it('useSwitchboard with options shows its client as connecting until it connects, not disconnected', () => {
    expect(renderToString(createElement(Own))).toBe('<span>connecting</span>');
  });

  it('useSwitchboard reports the state of a given client', () => {
    const client = new SwitchboardClient({ url: 'ws://127.0.0.1:9/v1/ws', storage: null });
    expect(renderToString(createElement(Status, { client }))).toBe('<span>disconnected</span>');
  });
});
