import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { createMemorySessionLog } from '../backends/memory/session-log.js';
import { FrameWriter } from './frame-writer.js';

const base = { sessionId: 's1', runId: 'r1' };
const token = (text: string): SessionFrameInput => ({ type: 'token', ...base, text });

/** An append that resolves only when the test lets it, recording every batch. */
function gatedLog() {
  const log = createMemorySessionLog();
  const batches: SessionFrameInput[][] = [];
  const sent: string[] = [];
  let open: Array<() => void> = [];
  return {
    batches,
    sent,
    log,
    release: () => {
      const o = open;
      open = [];
      for (const r of o) r();
    },
    append: async (frames: SessionFrameInput[]): Promise<SessionFrame[]> => {
      batches.push(frames.map((f) => ({ ...f })));
      await new Promise<void>((r) => open.push(r));
      const written = await log.appendBatch(frames);
      sent.push(...written.map((w) => w.json));
      return written.map((w) => w.frame);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('FrameWriter', () => {
  it('merges tokens that wait for the previous write into one frame, keeps order, and replays what it sent', async () => {
    const g = gatedLog();
    const w = new FrameWriter({ append: g.append, coalesceMs: 0 });
    w.push(token('a'));
    await tick();
    w.push(token('b'));
    w.push(token('c'));
    w.push({ type: 'tool', ...base, callId: 'k', name: 'calc', phase: 'start', input: {} });
    w.push(token('d'));
    w.push(token('e'));
    const flushed = w.flush();
    for (let i = 0; i < 5; i++) {
      g.release();
      await tick();
    }
    await flushed;
    expect(g.batches.map((b) => b.map((f) => (f.type === 'token' ? f.text : f.type)))).toEqual([['a'], ['bc', 'tool', 'de']]);
    expect(w.lastSeq).toBe(4);
    const { frames } = await g.log.readAfter('s1', 0);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(frames.map((f) => JSON.stringify(f))).toEqual(g.sent);
  });

  it('keeps at least coalesceMs between token frames, merging what arrives meanwhile', async () => {
    const log = createMemorySessionLog();
    const batches: string[][] = [];
    const w = new FrameWriter({
      coalesceMs: 500,
      append: async (frames) => {
        batches.push(frames.map((f) => (f.type === 'token' ? f.text : f.type)));
        return (await log.appendBatch(frames)).map((x) => x.frame);
      },
    });
    w.push(token('a'));
    await tick();
    w.push(token('b'));
    await tick();
    w.push(token('c'));
    await w.flush();
    expect(batches).toEqual([['a'], ['bc']]);
  });

  it('reports a failed write at the next push and at flush, and writes nothing after it', async () => {
    let calls = 0;
    const w = new FrameWriter({
      coalesceMs: 0,
      append: async () => {
        calls++;
        throw new Error('log down');
      },
    });
    w.push(token('a'));
    await expect(w.flush()).rejects.toThrow('log down');
    expect(() => w.push(token('b'))).toThrow('log down');
    expect(calls).toBe(1);
  });
});
