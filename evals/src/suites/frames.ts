/**
 * Frame grammar over real runs through a real gateway (started in process on port 0 with the
 * mock model, or the `--target` one): every frame parses, `seq` is contiguous per session, each
 * run opens with its `user` frame and ends with exactly one `done`, every tool `start` comes
 * before its `end`; a cancelled run ends `cancelled` and its model request is aborted.
 */
import { SessionFrame } from '@switchboard/protocol';
import type { EvalCase } from '../dataset.js';
import { metricFrom, type CaseOutcome, type MetricResult } from '../results.js';
import type { CaseRun } from '../run-record.js';
import { GATEWAY_MOCK_MODEL, startEvalGateway } from '../targets/gateway.js';
import { createRemoteTarget, type RemoteTarget } from '../targets/socket.js';
import type { SuiteContext } from './context.js';

/** Grammar problems of a run's frames; empty when the run is well formed. */
export function frameProblems(run: CaseRun): string[] {
  const problems: string[] = [];
  const lastSeq = new Map<string, number>();
  for (const [i, turn] of run.turns.entries()) {
    const at = `turn ${i + 1}`;
    const frames = turn.frames ?? [];
    for (const f of frames) if (!SessionFrame.safeParse(f).success) problems.push(`${at}: frame ${JSON.stringify(f).slice(0, 80)} does not parse`);
    if (frames[0]?.type !== 'user') problems.push(`${at}: first frame is ${frames[0]?.type ?? 'missing'}, not user`);
    const dones = frames.filter((f) => f.type === 'done').length;
    if (dones !== 1) problems.push(`${at}: ${dones} done frames`);
    if (frames.at(-1)?.type !== 'done') problems.push(`${at}: last frame is not done`);
    let previous = lastSeq.get(turn.session);
    for (const f of frames) {
      if (typeof f.seq !== 'number') continue;
      if (previous !== undefined && f.seq !== previous + 1) problems.push(`${at}: seq ${f.seq} after ${previous}`);
      previous = f.seq;
    }
    if (previous !== undefined) lastSeq.set(turn.session, previous);
    const started = new Set<string>();
    const ended = new Set<string>();
    for (const f of frames.filter((x) => x.type === 'tool')) {
      const callId = String(f.callId);
      if (f.phase === 'start') started.add(callId);
      else if (!started.has(callId)) problems.push(`${at}: tool end of ${callId} before its start`);
      else ended.add(callId);
    }
    for (const callId of started) if (!ended.has(callId)) problems.push(`${at}: tool ${callId} never ended`);
  }
  return problems;
}

async function runOne(c: EvalCase, target: RemoteTarget, ctx: SuiteContext, inProcess: boolean): Promise<CaseOutcome> {
  const mock = inProcess ? ctx.mock : undefined;
  if (mock && c.cancelAfterFirstToken) mock.setScenario(GATEWAY_MOCK_MODEL, { tokensPerSecond: 40, responseTokens: 400 });
  const abortedBefore = mock?.stats.aborted ?? 0;
  const run = await target.runCase(c);
  const problems = run.failure ? [run.failure] : frameProblems(run);
  const last = run.turns.at(-1);
  if (last && last.reason !== c.expect.reason) problems.push(`done.reason ${last.reason}, expected ${c.expect.reason}`);
  if (mock && c.cancelAfterFirstToken) {
    try {
      await mock.waitFor((s) => s.aborted > abortedBefore, 3000);
    } catch {
      problems.push('the model request was not aborted after cancel');
    }
    mock.setScenario(GATEWAY_MOCK_MODEL, undefined);
  }
  return {
    caseId: c.id,
    model: inProcess ? 'gateway+mock' : 'gateway',
    pass: problems.length === 0,
    score: problems.length === 0 ? 1 : 0,
    failures: problems.map((detail) => ({ check: 'frames', detail })),
    ...(last?.traceId ? { traceId: last.traceId } : {}),
  };
}

export async function runFramesSuite(ctx: SuiteContext): Promise<MetricResult[]> {
  const cases = ctx.cases.filter((c) => c.suite === 'frames');
  if (cases.length === 0) return [];
  const inProcess = !ctx.remote;
  if (inProcess && !ctx.mock) return [];
  const gateway = inProcess ? await startEvalGateway(ctx.mock!) : undefined;
  const target = ctx.remote ?? createRemoteTarget(gateway!.url);
  const outcomes: CaseOutcome[] = [];
  try {
    for (const c of cases) {
      const outcome = await runOne(c, target, ctx, inProcess);
      outcomes.push(outcome);
      ctx.progress(`frames ${c.id} ${outcome.pass ? 'ok' : 'FAIL'}`);
    }
  } finally {
    if (gateway) {
      target.close();
      await gateway.stop();
    }
  }
  return [metricFrom({ suite: 'frames', name: 'grammar', model: outcomes[0]?.model ?? 'gateway', kind: 'deterministic', outcomes })];
}
