/**
 * Checks what a client received against the protocol's promise: per session, `seq` contiguous
 * from 1 (no loss, no repeat, no reordering); per run, its frames contiguous from its `user`
 * frame to exactly one `done`.
 */
import { isSessionFrame, type SessionFrame, type SwitchboardClient } from '@switchboard/protocol';

export interface AuditReport {
  /** Session frames the application saw. */
  frames: number;
  /** Seqs skipped (a hole in a session's sequence). */
  lost: number;
  /** Frames whose seq was not above the previous one (repeated or out of order). */
  duplicated: number;
  runs: number;
  /** Runs with no `done`, or more than one, or frames after their `done`, or not starting with `user`. */
  brokenRuns: number;
  /** The first problems found, for the failure message. */
  problems: string[];
}

interface RunState {
  first: SessionFrame;
  last: SessionFrame;
  dones: number;
  broken: boolean;
}

/** Records the session frames of one or more clients and checks them. */
export class FrameAudit {
  private readonly bySession = new Map<string, SessionFrame[]>();

  /** Records every session frame `client` hands to the application (after its de-duplication). */
  watch(client: SwitchboardClient, label = 'client'): () => void {
    return client.onFrame((f) => {
      if (isSessionFrame(f)) this.record(`${label}:${f.sessionId}`, f);
    });
  }

  record(stream: string, frame: SessionFrame): void {
    let list = this.bySession.get(stream);
    if (!list) this.bySession.set(stream, (list = []));
    list.push(frame);
  }

  /** The frames recorded for one stream (`label:sessionId`). */
  frames(stream: string): SessionFrame[] {
    return this.bySession.get(stream) ?? [];
  }

  report(): AuditReport {
    const r: AuditReport = { frames: 0, lost: 0, duplicated: 0, runs: 0, brokenRuns: 0, problems: [] };
    const problem = (p: string) => r.problems.length < 20 && r.problems.push(p);
    for (const [stream, frames] of this.bySession) {
      let prev = 0;
      const runs = new Map<string, RunState>();
      for (const f of frames) {
        r.frames++;
        if (f.seq <= prev) {
          r.duplicated++;
          problem(`${stream}: seq ${f.seq} after ${prev}`);
          continue;
        }
        if (f.seq > prev + 1) {
          r.lost += f.seq - prev - 1;
          problem(`${stream}: seqs ${prev + 1}..${f.seq - 1} missing`);
        }
        const run = runs.get(f.runId);
        if (!run) {
          runs.set(f.runId, { first: f, last: f, dones: f.type === 'done' ? 1 : 0, broken: f.type !== 'user' });
        } else {
          if (run.dones > 0) run.broken = true;
          if (f.seq !== run.last.seq + 1) run.broken = true;
          if (f.type === 'done') run.dones++;
          run.last = f;
        }
        prev = f.seq;
      }
      for (const [runId, run] of runs) {
        r.runs++;
        if (run.broken || run.dones !== 1) {
          r.brokenRuns++;
          problem(`${stream}: run ${runId} ${run.first.seq}..${run.last.seq} has ${run.dones} done${run.broken ? ', frames out of line' : ''}`);
        }
      }
    }
    return r;
  }
}
