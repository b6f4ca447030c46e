/**
 * Holds many idle authenticated sockets with several worker processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CpuMeter } from './proc.js';
import type { WorkerJob, WorkerReport } from './socket-worker.js';

/** Options of {@link openSocketFleet}. */
export interface FleetOptions {
  wsUrl: string;
  token: string;
  sockets: number;
  /** Sockets per worker process (each process may hold fewer than 20k fds). @default 15000 */
  perProcess?: number;
  /** Number of 127.0.0.x source addresses. @default 4 */
  addresses?: number;
  /** Sockets opening at once per worker. @default 200 */
  concurrency?: number;
  onProgress?(open: number, failed: number): void;
}

/** A fleet of held sockets. */
export interface SocketFleet {
  open: number;
  failed: number;
  errors: Record<string, number>;
  openMs: number;
  workers: number;
  /** CPU of the worker processes since they started. */
  cpu(): { seconds: number; cores: number };
  /** Closes every socket; returns how many the server had closed meanwhile, by code. */
  close(): Promise<{ closedByServer: number; codes: Record<string, number> }>;
}

const workerPath = fileURLToPath(new URL('./socket-worker.ts', import.meta.url));

/** Opens the sockets and resolves once every worker has tried all of its share. */
export async function openSocketFleet(o: FleetOptions): Promise<SocketFleet> {
  const perProcess = o.perProcess ?? 15_000;
  const nWorkers = Math.max(1, Math.ceil(o.sockets / perProcess));
  const addresses = Array.from({ length: Math.max(1, o.addresses ?? 4) }, (_, i) => `127.0.0.${i + 1}`);
  const children: ChildProcess[] = [];
  const meters: CpuMeter[] = [];
  const state = new Map<ChildProcess, { open: number; failed: number }>();
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: nWorkers }, (_, w) => {
      const count = Math.floor(o.sockets / nWorkers) + (w < o.sockets % nWorkers ? 1 : 0);
      const child = fork(workerPath, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      meters.push(new CpuMeter(child.pid!));
      state.set(child, { open: 0, failed: 0 });
      const job: WorkerJob = { wsUrl: o.wsUrl, token: o.token, count, localAddresses: addresses, concurrency: o.concurrency ?? 200, offset: w };
      return new Promise<Extract<WorkerReport, { type: 'opened' }>>((resolve, reject) => {
        child.on('message', (m: WorkerReport) => {
          if (m.type === 'progress' || m.type === 'opened') {
            state.set(child, { open: m.open, failed: m.failed });
            let open = 0, failed = 0;
            for (const s of state.values()) (open += s.open), (failed += s.failed);
            o.onProgress?.(open, failed);
          }
          if (m.type === 'opened') resolve(m);
        });
        child.once('exit', (code) => reject(new Error(`socket worker exited with ${code}`)));
        child.send({ type: 'start', job });
      });
    }),
  );
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    open: results.reduce((a, r) => a + r.open, 0),
    failed: results.reduce((a, r) => a + r.failed, 0),
    errors,
    openMs: performance.now() - t0,
    workers: nWorkers,
    cpu() {
      let seconds = 0, cores = 0;
      for (const m of meters) {
        const r = m.read();
        seconds += r.seconds;
        cores += r.cores;
      }
      return { seconds, cores };
    },
    async close() {
      const out = await Promise.all(
        children.map(
          (c) =>
            new Promise<{ closedByServer: number; codes: Record<string, number> }>((resolve) => {
              c.removeAllListeners('exit');
              c.on('message', (m: WorkerReport) => m.type === 'closed' && resolve(m));
              c.once('exit', () => resolve({ closedByServer: 0, codes: {} }));
              c.send({ type: 'close' });
            }),
        ),
      );
      const codes: Record<string, number> = {};
      for (const r of out) for (const [k, v] of Object.entries(r.codes)) codes[k] = (codes[k] ?? 0) + v;
      return { closedByServer: out.reduce((a, r) => a + r.closedByServer, 0), codes };
    },
  };
}
