/**
 * A load-generator child for the chat scenario (`--procs N`): drives one slice of the users so
 * that no single client event loop limits the load. Driven over IPC by chat.ts.
 */
import { encodeRecorder } from '../stats/histogram.js';
import { UsersDriver, type UsersCounts, type UsersJob } from './chat-users.js';

/** Messages from the parent. */
export type ChatWorkerCommand = { type: 'setup'; job: UsersJob } | { type: 'go'; durationMs: number } | { type: 'close' };

/** Messages to the parent. */
export type ChatWorkerReport =
  | { type: 'progress'; counts: UsersCounts }
  | { type: 'ready'; counts: UsersCounts }
  | { type: 'result'; counts: UsersCounts; recorders: Record<string, string> };

const send = (m: ChatWorkerReport) => process.send?.(m);
let driver: UsersDriver | null = null;

process.on('message', (m: ChatWorkerCommand) => {
  if (m.type === 'setup') {
    const d = (driver = new UsersDriver(m.job));
    const timer = setInterval(() => send({ type: 'progress', counts: d.counts }), 1000);
    void d.setup().then(() => {
      clearInterval(timer);
      send({ type: 'ready', counts: d.counts });
    });
  } else if (m.type === 'go' && driver) {
    const d = driver;
    const timer = setInterval(() => send({ type: 'progress', counts: d.counts }), 1000);
    void d.run(m.durationMs).then(() => {
      clearInterval(timer);
      d.close();
      const recorders = Object.fromEntries(Object.entries(d.recorders()).map(([k, r]) => [k, encodeRecorder(r)]));
      send({ type: 'result', counts: d.counts, recorders });
    });
  } else if (m.type === 'close') {
    driver?.close();
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
