/**
 * Checks what a client received against the protocol's promise: per session, `seq` contiguous
 * from 1 (no loss, no repeat, no reordering); per run, its frames contiguous from its `user`
 * frame to exactly one `done`.
 */
import { isSessionFrame, type ReadyFrame, type SessionFrame, type SwitchboardClient } from '@switchboard/protocol';

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
  /** Runs cut by a recreated log (an epoch change): not counted as broken unless they had two `done`s. */
  cutRuns: number;
  /** Epoch changes the clients were told of (`joined{gap:true}` in another epoch). */
  epochChanges: number;
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
  /** Per stream, the index in its frames where a new epoch began. */
  private readonly boundaries = new Map<string, Set<number>>();
  private readonly epochs = new Map<string, string>();
  private epochChanges = 0;

  /**
   * Records every session frame `client` hands to the application (after its de-duplication),
   * and where the session's log started a new epoch (the client refetches history there).
   */
  watch(client: SwitchboardClient, label = 'client'): () => void {
    return client.onFrame((f) => {
      if (isSessionFrame(f)) this.record(`${label}:${f.sessionId}`, f);
      else if (f.type === 'joined' && f.epoch) {
        const stream = `${label}:${f.sessionId}`;
        const known = this.epochs.get(stream);
        this.epochs.set(stream, f.epoch);
        if (known && known !== f.epoch && f.gap) {
          this.epochChanges++;
          let b = this.boundaries.get(stream);
          if (!b) this.boundaries.set(stream, (b = new Set()));
          b.add(this.frames(stream).length);
        }
      }
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

  /** Where in a stream's frames a new epoch began (indexes into {@link frames}). */
  epochStarts(stream: string): number[] {
    return [...(this.boundaries.get(stream) ?? [])];
  }

  report(): AuditReport {
    const r: AuditReport = { frames: 0, lost: 0, duplicated: 0, runs: 0, brokenRuns: 0, cutRuns: 0, epochChanges: this.epochChanges, problems: [] };
    const problem = (p: string) => r.problems.length < 20 && r.problems.push(p);
    for (const [stream, frames] of this.bySession) {
      let prev = 0;
      const runs = new Map<string, RunState>();
      const boundaries = this.boundaries.get(stream) ?? new Set<number>();
      const cut = new Set<string>();
      for (const [i, f] of frames.entries()) {
        r.frames++;
        if (boundaries.has(i)) {
          // A new epoch: its seqs are above the old ones but need not follow them; runs open
          // across it were cut (their frames in the lost log are gone).
          if (f.seq <= prev) {
            r.duplicated++;
            problem(`${stream}: seq ${f.seq} after ${prev} across an epoch change`);
          }
          for (const [id, run] of runs) if (run.dones === 0) cut.add(id);
          prev = f.seq - 1;
        }
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
          runs.set(f.runId, { first: f, last: f, dones: f.type === 'done' ? 1 : 0, broken: f.type !== 'user' && !boundaries.has(i) });
          if (f.type !== 'user' && boundaries.size) cut.add(f.runId);
        } else {
          if (run.dones > 0) run.broken = true;
          if (f.seq !== run.last.seq + 1) run.broken = true;
          if (f.type === 'done') run.dones++;
          run.last = f;
        }
        prev = f.seq;
      }
      // An epoch change the client was told of (`joined{gap:true}`) with no frame after it yet:
      // the runs open then were cut too (the client reads them from the transcript).
      if (boundaries.has(frames.length)) for (const [id, run] of runs) if (run.dones === 0) cut.add(id);
      for (const [runId, run] of runs) {
        r.runs++;
        if (cut.has(runId) && run.dones <= 1) {
          r.cutRuns++;
          continue;
        }
        if (run.broken || run.dones !== 1) {
          r.brokenRuns++;
          problem(`${stream}: run ${runId} ${run.first.seq}..${run.last.seq} has ${run.dones} done${run.broken ? ', frames out of line' : ''}`);
        }
      }
    }
    return r;
  }
}

/**
 * Connects `client`, joins it to `sessionId` and audits it as `c`: the audit, and every `ready`
 * the client gets (one per connection, so a reconnect shows which node it reached).
 */
export async function joinAudited(client: SwitchboardClient, sessionId: string): Promise<{ audit: FrameAudit; readies: ReadyFrame[] }> {
  const audit = new FrameAudit();
  audit.watch(client, 'c');
  const readies: ReadyFrame[] = [];
  client.onFrame((f) => f.type === 'ready' && readies.push(f));
  await client.connect();
  await client.join(sessionId);
  return { audit, readies };
}
