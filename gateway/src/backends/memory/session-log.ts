import type { SessionFrame, SessionFrameInput } from '@switchboard/protocol';
import type { AppendedFrame, LogRetention, ReadResult, SessionLog } from '../../ports.js';

interface Entry {
  frames: Array<{ frame: SessionFrame; at: number }>;
  lastSeq: number;
}

export const DEFAULT_RETENTION: LogRetention = { maxFrames: 10_000, maxAgeMs: 24 * 60 * 60 * 1000 };

/** The in-process session log (embedded default): one node only. */
export function createMemorySessionLog(retention: Partial<LogRetention> = {}, now: () => number = Date.now): SessionLog {
  const { maxFrames, maxAgeMs } = { ...DEFAULT_RETENTION, ...retention };
  const sessions = new Map<string, Entry>();

  function trim(entry: Entry): void {
    const cutoff = now() - maxAgeMs;
    let drop = Math.max(0, entry.frames.length - maxFrames);
    while (drop < entry.frames.length && entry.frames[drop]!.at < cutoff) drop++;
    if (drop > 0) entry.frames.splice(0, drop);
  }

  function append(input: SessionFrameInput): SessionFrame {
    let entry = sessions.get(input.sessionId);
    if (!entry) sessions.set(input.sessionId, (entry = { frames: [], lastSeq: 0 }));
    const frame = { ...input, seq: ++entry.lastSeq } as SessionFrame;
    entry.frames.push({ frame, at: now() });
    trim(entry);
    return frame;
  }

  return {
    async append(input: SessionFrameInput): Promise<SessionFrame> {
      return append(input);
    },
    // One process: there is no bus to publish on in the same step (`publishes` is unset).
    async appendBatch(inputs): Promise<AppendedFrame[]> {
      return inputs.map((input) => {
        const frame = append(input);
        return { frame, json: JSON.stringify(frame) };
      });
    },
    async readAfter(sessionId, after, limit = 10_000): Promise<ReadResult> {
      const entry = sessions.get(sessionId);
      if (!entry) return { frames: [], gap: false, lastSeq: 0 };
      trim(entry);
      const first = entry.frames[0]?.frame.seq ?? entry.lastSeq + 1;
      const gap = after + 1 < first && after < entry.lastSeq;
      const start = Math.max(0, after + 1 - first);
      const frames = entry.frames.slice(start, start + limit).map((e) => e.frame);
      return { frames, gap, lastSeq: entry.lastSeq };
    },
    async lastSeq(sessionId) {
      return sessions.get(sessionId)?.lastSeq ?? 0;
    },
    async delete(sessionId) {
      sessions.delete(sessionId);
    },
    async close() {
      sessions.clear();
    },
  };
}
