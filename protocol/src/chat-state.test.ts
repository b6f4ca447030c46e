import type { SessionFrame } from './frames.js';
import { addPendingUser, dropPendingUser, emptyChat, reduceChat, type AssistantMessage, type ChatState } from './chat-state.js';

const S = 's1';
const run1: SessionFrame[] = [
  { type: 'user', sessionId: S, runId: 'r1', seq: 1, id: 'm1', text: 'What is 12*(3+4)?' },
  { type: 'tool', sessionId: S, runId: 'r1', seq: 2, callId: 'c1', name: 'calculator', phase: 'start', input: { expression: '12*(3+4)' } },
  { type: 'tool', sessionId: S, runId: 'r1', seq: 3, callId: 'c1', name: 'calculator', phase: 'end', output: '84' },
  { type: 'token', sessionId: S, runId: 'r1', seq: 4, text: 'It is ' },
  { type: 'token', sessionId: S, runId: 'r1', seq: 5, text: '84.' },
  { type: 'done', sessionId: S, runId: 'r1', seq: 6, reason: 'stop', model: 'local' },
];
const fold = (frames: SessionFrame[], from: ChatState = emptyChat(S)) => frames.reduce(reduceChat, from);

describe('reduceChat', () => {
  it('builds a user turn and an answer with its tool call', () => {
    const s = fold(run1);
    expect(s.messages).toEqual([
      { role: 'user', id: 'm1', runId: 'r1', text: 'What is 12*(3+4)?', pending: false },
      {
        role: 'assistant',
        id: 'r1',
        text: 'It is 84.',
        status: 'done',
        reason: 'stop',
        model: 'local',
        error: undefined,
        toolCalls: [{ callId: 'c1', name: 'calculator', input: { expression: '12*(3+4)' }, output: '84', error: undefined, status: 'done' }],
      },
    ]);
    expect(s.activeRunId).toBeNull();
    expect(s.lastSeq).toBe(6);
  });

  it('streams: the answer grows and the run is active until done', () => {
    const s = fold(run1.slice(0, 4));
    expect(s.activeRunId).toBe('r1');
    expect((s.messages[1] as AssistantMessage).status).toBe('streaming');
    expect((s.messages[1] as AssistantMessage).text).toBe('It is ');
  });

  it('ignores frames it has already folded (replays after a reconnect or a reload)', () => {
    const once = fold(run1);
    const twice = fold([...run1.slice(2), ...run1], once);
    expect(twice).toBe(once);
    const partial = fold(run1.slice(0, 4));
    expect(fold(run1, partial)).toEqual(once);
  });

  it('joins mid-answer: frames of a run whose user turn it never saw still form an answer', () => {
    const s = fold(run1.slice(3));
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ role: 'assistant', id: 'r1', text: 'It is 84.', status: 'done' });
  });

  it('keeps the error of a failed run', () => {
    const s = fold([
      run1[0]!,
      { type: 'done', sessionId: S, runId: 'r1', seq: 2, reason: 'error', error: { code: 'model_unavailable', message: 'every model in the chain failed' } },
    ]);
    expect(s.messages[1]).toMatchObject({ reason: 'error', error: { code: 'model_unavailable', message: 'every model in the chain failed' } });
  });

  it('marks a tool call still running at done as failed', () => {
    const s = fold([run1[0]!, run1[1]!, { type: 'done', sessionId: S, runId: 'r1', seq: 3, reason: 'cancelled' }]);
    expect((s.messages[1] as AssistantMessage).toolCalls[0]!.status).toBe('failed');
  });

  it('replaces a pending user message with the echoed one, in place', () => {
    let s = addPendingUser(emptyChat(S), 'm1', 'What is 12*(3+4)?');
    expect(s.messages[0]).toMatchObject({ pending: true, runId: null });
    s = fold(run1.slice(0, 1), s);
    expect(s.messages.filter((m) => m.role === 'user')).toEqual([{ role: 'user', id: 'm1', runId: 'r1', text: 'What is 12*(3+4)?', pending: false }]);
    expect(dropPendingUser(addPendingUser(s, 'm2', 'x'), 'm2')).toEqual(s);
  });

  it('ignores frames of other sessions', () => {
    expect(fold([{ ...run1[0]!, sessionId: 'other' }])).toEqual(emptyChat(S));
  });
});
