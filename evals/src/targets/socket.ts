/**
 * Runs cases through a running gateway, the whole path: users registered over HTTP, sessions
 * created over HTTP, turns sent over the socket with the client SDK. Used for
 * `--target http://host:port` and for the frame-grammar suite on a gateway started in process.
 */
import { randomUUID } from 'node:crypto';
import { createNodeClient, type SwitchboardClient } from '@switchboard/protocol/node';
import { EvalsError } from '../errors.js';
import type { EvalCase } from '../dataset.js';
import type { CaseRun, ToolRecord, TurnRecord } from '../run-record.js';

export interface RemoteTarget {
  readonly baseUrl: string;
  runCase(c: EvalCase, options?: { cancelAfterFirstToken?: boolean }): Promise<CaseRun>;
  close(): void;
}

type Frame = Record<string, unknown> & { type: string; seq?: number };

async function postJson(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (error) {
    throw new EvalsError('target_failed', `cannot reach ${url}: ${(error as Error).message}`, { cause: error });
  }
  const text = await res.text();
  if (!res.ok) throw new EvalsError('target_failed', `${url} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function storedMemories(base: string, token: string): Promise<string[]> {
  const res = await fetch(`${base}/v1/me/memories`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) return [];
  const body = (await res.json()) as { memories?: Array<{ text?: unknown }> };
  return (body.memories ?? []).map((m) => String(m.text ?? ''));
}

/**
 * Connects to a gateway at `baseUrl` (e.g. `http://127.0.0.1:8080`).
 * @example
 * const target = createRemoteTarget('http://127.0.0.1:8080');
 * const run = await target.runCase(evalCase);
 */
export function createRemoteTarget(baseUrl: string): RemoteTarget {
  const base = baseUrl.replace(/\/+$/, '');
  const wsUrl = `${base.replace(/^http/, 'ws')}/v1/ws`;
  const clients: SwitchboardClient[] = [];

  async function account(): Promise<{ token: string; client: SwitchboardClient }> {
    const email = `eval-${randomUUID()}@example.com`;
    const body = await postJson(`${base}/v1/auth/register`, { email, password: 'eval correct horse battery' });
    const token = String(body.accessToken);
    const client = createNodeClient({ url: wsUrl, token, reconnect: false, clientName: 'switchboard-evals' });
    clients.push(client);
    await client.connect();
    return { token, client };
  }

  async function turn(client: SwitchboardClient, sessionId: string, text: string, cancelAfterFirstToken: boolean): Promise<TurnRecord & { frames: Frame[] }> {
    const started = performance.now();
    const run = client.send({ sessionId, text });
    const record: TurnRecord & { frames: Frame[] } = { text, user: '', session: sessionId, runId: '', answer: '', tools: [], reason: 'error', frames: [] };
    const open = new Map<string, ToolRecord>();
    let cancelled = false;
    for await (const frame of run) {
      const f = frame as unknown as Frame;
      record.frames.push(f);
      if (frame.type === 'token') {
        record.ttftMs ??= performance.now() - started;
        record.answer += frame.text;
        if (cancelAfterFirstToken && !cancelled) {
          cancelled = true;
          await run.cancel();
        }
      } else if (frame.type === 'tool') {
        if (frame.phase === 'start') {
          const call: ToolRecord = { callId: frame.callId, name: frame.name, input: frame.input };
          open.set(frame.callId, call);
          record.tools.push(call);
        } else {
          const call = open.get(frame.callId);
          if (call) Object.assign(call, frame.output === undefined ? {} : { output: frame.output }, frame.error === undefined ? {} : { error: frame.error });
        }
      } else if (frame.type === 'done') {
        record.reason = frame.reason;
        record.model = frame.model;
        if (frame.usage) record.usage = { inputTokens: frame.usage.inputTokens ?? 0, outputTokens: frame.usage.outputTokens ?? 0 };
        if (frame.error) record.errorCode = frame.error.code;
        const traceId = (frame as { traceId?: unknown }).traceId;
        if (typeof traceId === 'string') record.traceId = traceId;
      }
    }
    record.runId = await run.runId;
    return record;
  }

  return {
    baseUrl: base,
    async runCase(c, options = {}) {
      const users = new Map<string, { token: string; client: SwitchboardClient; sessions: Map<string, string> }>();
      const user = async (name: string) => {
        let u = users.get(name);
        if (!u) {
          u = { ...(await account()), sessions: new Map() };
          users.set(name, u);
        }
        return u;
      };
      const session = async (name: string, label: string) => {
        const u = await user(name);
        let id = u.sessions.get(label);
        if (!id) {
          id = String((await postJson(`${base}/v1/sessions`, { title: `eval ${c.id} ${label}` }, u.token)).id);
          u.sessions.set(label, id);
        }
        return { client: u.client, id };
      };
      try {
        for (const seed of c.seedMemories) {
          const s = await session(seed.user, `seed-${randomUUID()}`);
          await turn(s.client, s.id, `Remember that ${seed.text}`, false);
        }
        const turns: TurnRecord[] = [];
        for (const [i, t] of c.turns.entries()) {
          const s = await session(t.user, t.session);
          const last = i === c.turns.length - 1;
          const record = await turn(s.client, s.id, t.text, last && (options.cancelAfterFirstToken ?? c.cancelAfterFirstToken));
          if (last) record.storedMemories = await storedMemories(base, (await user(t.user)).token);
          turns.push({ ...record, user: t.user, session: t.session });
        }
        return { caseId: c.id, model: 'gateway', turns };
      } catch (error) {
        return { caseId: c.id, model: 'gateway', turns: [], failure: error instanceof Error ? error.message : String(error) };
      } finally {
        for (const u of users.values()) u.client.close();
      }
    },
    close() {
      for (const client of clients) client.close();
    },
  };
}
