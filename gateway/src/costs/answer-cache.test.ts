import type { AgentEvent } from '@switchboard/agent-core';
import { AnswerRecorder, answerKey, normalizeText, parseCached, replay } from './answer-cache.js';

const key = (over: Partial<Parameters<typeof answerKey>[0]> = {}) =>
  answerKey({ userId: 'u1', promptVersion: 'p1', tier: 'fast', recent: '', text: 'Hello there', ...over });

describe('answer cache', () => {
  it('keys on user, prompt version, tier, recent context and the normalized text, and hides them all', () => {
    expect(key({ text: '  hello   THERE!! ' })).toBe(key());
    for (const other of [{ userId: 'u2' }, { promptVersion: 'p2' }, { tier: 'smart' }, { recent: 'user: hi' }, { text: 'hello here' }]) {
      expect(key(other)).not.toBe(key());
    }
    expect(key()).not.toMatch(/u1|hello/i);
    expect(normalizeText('What is 2+2 ?')).toBe('what is 2+2');
  });

  it('records text and pure tool calls in order and replays them as the same events', () => {
    const events: AgentEvent[] = [
      { type: 'tool-start', callId: 'c1', name: 'calculator', input: { expression: '2+2' } },
      { type: 'tool-end', callId: 'c1', name: 'calculator', output: '4' },
      { type: 'token', text: 'The result ' },
      { type: 'token', text: 'is 4.' },
    ];
    const recorder = new AnswerRecorder();
    for (const e of events) recorder.add(e);
    expect(recorder.cacheable).toBe(true);
    const replayed = [...replay(parseCached(JSON.stringify({ model: 'mini', steps: recorder.steps }))!)];
    expect(replayed.slice(0, 2)).toEqual(events.slice(0, 2));
    expect(replayed.slice(2).map((e) => (e.type === 'token' ? e.text : '')).join('')).toBe('The result is 4.');
    expect(replayed.slice(2).every((e) => e.type === 'token')).toBe(true);
  });

  it('refuses answers that used an impure or failing tool, and ignores entries that are not its own', () => {
    const clock = new AnswerRecorder();
    clock.add({ type: 'tool-start', callId: 'c', name: 'clock', input: {} });
    expect(clock.cacheable).toBe(false);
    const failed = new AnswerRecorder();
    failed.add({ type: 'tool-start', callId: 'c', name: 'calculator', input: {} });
    failed.add({ type: 'tool-end', callId: 'c', name: 'calculator', error: 'bad expression' });
    expect(failed.cacheable).toBe(false);
    expect(parseCached(null)).toBeNull();
    expect(parseCached('not json')).toBeNull();
    expect(parseCached('{"steps": 3}')).toBeNull();
  });
});
