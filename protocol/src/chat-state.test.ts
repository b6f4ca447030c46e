import type { SessionFrame } from './frames.js';
import { addPendingUser, dropPendingUser, emptyChat, mergeHistory, reduceChat, type AssistantMessage, type ChatState } from './chat-state.js';

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

describe('mergeHistory', () => {
  const tokens = (runId: string, from: number, texts: string[]): SessionFrame[] =>
    texts.map((text, i) => ({ type: 'token', sessionId: S, runId, seq: from + i, text }) as SessionFrame);
  const userFrame = (runId: string, seq: number, text: string): SessionFrame => ({ type: 'user', sessionId: S, runId, seq, id: `m-${runId}`, text }) as SessionFrame;
  const doneFrame = (runId: string, seq: number): SessionFrame => ({ type: 'done', sessionId: S, runId, seq, reason: 'stop' }) as SessionFrame;

  it('fills a run the frames cut short with its stored answer, once, and keeps the live run as streamed', () => {
    // r1 finished; r2 was cut by a lost log after "Hel"; r3 streams live in the new epoch.
    let s = emptyChat(S);
    for (const f of [userFrame('r1', 1, 'hi'), ...tokens('r1', 2, ['Hello', '!']), doneFrame('r1', 4), userFrame('r2', 5, 'again'), ...tokens('r2', 6, ['Hel'])]) s = reduceChat(s, f);
    for (const f of [userFrame('r3', 1001, 'third'), ...tokens('r3', 1002, ['Thi'])]) s = reduceChat(s, f);
    s = { ...s, gap: true };
    const merged = mergeHistory(s, [
      { runId: 'r1', role: 'user', content: 'hi', clientMessageId: 'm-r1' },
      { runId: 'r1', role: 'assistant', content: 'Hello!' },
      { runId: 'r2', role: 'user', content: 'again', clientMessageId: 'm-r2' },
      { runId: 'r2', role: 'assistant', content: 'Hello again' },
      { runId: 'r3', role: 'user', content: 'third', clientMessageId: 'm-r3' },
    ]);
    expect(merged.gap).toBe(false);
    expect(merged.messages.map((m) => `${m.role}:${m.role === 'user' ? m.runId : m.id}:${m.text}`)).toEqual([
      'user:r1:hi',
      'assistant:r1:Hello!',
      'user:r2:again',
      'assistant:r2:Hello again',
      'user:r3:third',
      'assistant:r3:Thi',
    ]);
    // The live run keeps folding frames after the merge.
    const next = reduceChat(merged, tokens('r3', 1004, ['rd'])[0]!);
    expect(next.messages.at(-1)).toMatchObject({ id: 'r3', text: 'Third', status: 'streaming' });
  });

  it('keeps older messages the transcript page does not reach, and a pending send after them', () => {
    let s = emptyChat(S);
    for (const f of [userFrame('r0', 1, 'old'), ...tokens('r0', 2, ['older']), doneFrame('r0', 3), userFrame('r1', 4, 'hi')]) s = reduceChat(s, f);
    s = addPendingUser(s, 'c-9', 'pending one');
    const merged = mergeHistory(s, [
      { runId: 'r1', role: 'user', content: 'hi', clientMessageId: 'm-r1' },
      { runId: 'r1', role: 'assistant', content: 'Hello' },
    ]);
    expect(merged.messages.map((m) => m.text)).toEqual(['old', 'older', 'hi', 'Hello', 'pending one']);
    // r1's stored answer means it ended: nothing streams any more.
    expect(merged.activeRunId).toBeNull();
  });

  it('an empty transcript changes nothing but the gap', () => {
    const s = { ...reduceChat(emptyChat(S), userFrame('r1', 1, 'hi')), gap: true };
    expect(mergeHistory(s, [])).toEqual({ ...s, gap: false });
  });
});
