/**
 * A load-client child process: opens many authenticated sockets (spread over several
 * 127.0.0.x source addresses) and holds them, because one process may hold fewer than 20k fds.
 * Driven over IPC by {@link ./socket-fleet.ts}.
 */
import WebSocket from 'ws';

/** The job a worker gets. */
export interface WorkerJob {
  wsUrl: string;
  token: string;
  count: number;
  /** Source addresses, used round-robin. */
  localAddresses: string[];
  /** Sockets opening at once. */
  concurrency: number;
  /** Offset of this worker's first socket (spreads addresses across workers). */
  offset: number;
}

/** Messages a worker sends to its parent. */
export type WorkerReport =
  | { type: 'progress'; open: number; failed: number; errors: Record<string, number> }
  | { type: 'opened'; open: number; failed: number; errors: Record<string, number>; ms: number }
  | { type: 'closed'; closedByServer: number; codes: Record<string, number> };

const sockets: WebSocket[] = [];
const errors: Record<string, number> = {};
const codes: Record<string, number> = {};
let open = 0, failed = 0, closedByServer = 0, closing = false;
const send = (m: WorkerReport) => process.send?.(m);

function openOne(job: WorkerJob, i: number): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = job.localAddresses[(job.offset + i) % job.localAddresses.length];
    const ws = new WebSocket(job.wsUrl, 'switchboard.v1', { localAddress, perMessageDeflate: false });
    let settled = false;
    const settle = (error?: string) => {
      if (settled) return;
      settled = true;
      if (error) {
        failed++;
        errors[error] = (errors[error] ?? 0) + 1;
        ws.terminate();
      } else {
        open++;
        sockets.push(ws);
      }
      resolve();
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', token: job.token })));
    ws.on('message', (data) => {
      if (settled) return;
      const text = data.toString();
      if (text.includes('"type":"ready"')) settle();
      else if (text.includes('"type":"error"')) settle(/"code":"([^"]+)"/.exec(text)?.[1] ?? 'error');
    });
    ws.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? 'socket_error'));
    ws.on('close', (code) => {
      settle(`close_${code}`);
      if (!closing) {
        closedByServer++;
        codes[code] = (codes[code] ?? 0) + 1;
      }
    });
  });
}

async function run(job: WorkerJob): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const timer = setInterval(() => send({ type: 'progress', open, failed, errors }), 500);
  await Promise.all(
    Array.from({ length: Math.min(job.concurrency, job.count) }, async () => {
      while (next < job.count) await openOne(job, next++);
    }),
  );
  clearInterval(timer);
  send({ type: 'opened', open, failed, errors, ms: performance.now() - t0 });
}

process.on('message', (m: { type: 'start'; job: WorkerJob } | { type: 'close' }) => {
  if (m.type === 'start') void run(m.job);
  else {
    closing = true;
    for (const ws of sockets) ws.terminate();
    send({ type: 'closed', closedByServer, codes });
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
