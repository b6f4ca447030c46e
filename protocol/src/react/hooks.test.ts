import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { SwitchboardClient } from '../client.js';
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

describe('useChatSession (server render)', () => {
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

  it('useSwitchboard reports the state of a given client', () => {
    const client = new SwitchboardClient({ url: 'ws://127.0.0.1:9/v1/ws', storage: null });
    expect(renderToString(createElement(Status, { client }))).toBe('<span>disconnected</span>');
  });
});
