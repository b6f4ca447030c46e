/**
 * A tiny client of a Node process's inspector (started with `--inspect=127.0.0.1:0`): forces a
 * full garbage collection and reads the JS heap, so idle memory is measured on settled processes
 * without changing the code under test.
 */
import WebSocket from 'ws';

/** A connected inspector session. */
export interface InspectorSession {
  /** A full, synchronous garbage collection in the target. */
  collectGarbage(): Promise<void>;
  /** The target's JS heap: bytes used and allocated. */
  heapUsage(): Promise<{ usedSize: number; totalSize: number }>;
  close(): void;
}

/** Connects to the inspector at `url` (`ws://127.0.0.1:<port>/<uuid>`). */
export async function connectInspector(url: string): Promise<InspectorSession> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error) p.reject(new Error(m.error.message));
    else p.resolve(m.result);
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('inspector closed'));
    pending.clear();
  });
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    collectGarbage: () => call<void>('HeapProfiler.collectGarbage'),
    heapUsage: () => call<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage'),
    close: () => ws.close(),
  };
}
