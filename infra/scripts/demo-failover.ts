/**
 * Failover demo client: registers a user through nginx, streams a long answer and prints every
 * frame's seq and the node serving the socket. Kill that node (`kill -9 <pid>`) mid-stream and
 * watch the client resume on another node: contiguous seq, exactly one done.
 *
 *   node --import tsx infra/scripts/demo-failover.ts [http://127.0.0.1:8080]
 */
import { isSessionFrame, type SessionFrame } from '@switchboard/protocol';
import { createNodeClient } from '@switchboard/protocol/node';

const base = (process.argv[2] ?? process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');

async function post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const email = `demo-${Date.now()}@example.com`;
const auth = await post('/v1/auth/register', { email, password: 'correct horse battery' });
const token = auth.accessToken as string;
const session = await post('/v1/sessions', { title: 'failover demo' }, token);
const sessionId = session.id as string;

const client = createNodeClient({ url: `${base.replace(/^http/, 'ws')}/v1/ws`, token, reconnectBaseMs: 100, reconnectMaxMs: 2_000 });
client.onFrame((f) => {
  if (f.type === 'ready') console.log(`\n[ready] node=${f.node} resumed=${f.resumed}`);
  if (f.type === 'joined') console.log(`[joined] last seq ${f.seq}, replayed ${f.replayed}, gap ${f.gap}`);
  if (f.type === 'goaway') console.log(`\n[goaway] ${f.reason}: reconnecting elsewhere`);
});
await client.connect();
await client.join(sessionId);
console.log(`session ${sessionId}; streaming a long answer — kill -9 the node named above to see failover`);

const seqs: number[] = [];
let dones = 0;
let finished!: () => void;
const ended = new Promise<void>((r) => (finished = r));
client.onFrame((f) => {
  if (!isSessionFrame(f)) return;
  const frame: SessionFrame = f;
  seqs.push(frame.seq);
  if (frame.type !== 'done') return void process.stdout.write(`${frame.seq} `);
  dones++;
  console.log(`\n[done] seq=${frame.seq} reason=${frame.reason}${frame.error ? ` error=${frame.error.code}` : ''}`);
  finished();
});
client.send({ sessionId, text: 'Please give me a long answer about resilient systems.' });
await ended;
// Linger a moment: a second done would show here.
await new Promise((r) => setTimeout(r, 1_000));
const contiguous = seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
console.log(
  `\nframes ${seqs.length}, seq ${seqs[0]}..${seqs.at(-1)}, contiguous: ${contiguous}, ` +
    `done frames: ${dones}, duplicates dropped by the client: ${client.duplicatesDropped}, final node: ${client.ready?.node}`,
);
client.close();
process.exit(contiguous && dones === 1 ? 0 : 1);
