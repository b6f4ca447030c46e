/**
 * One span tree per run (run → model calls → tool calls) and the run, token, tool and model
 * metrics. Run state is kept by run id and handed on explicitly: the agent's input carries the
 * run's model-event listener, so model-chain events land on the span of the run that caused them
 * without an async context (whose promise hooks cost every promise of the process).
 */
import type { AgentEvent, ModelChainEvent } from '@switchboard/agent-core';
import { isSpanContextValid, ROOT_CONTEXT, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { RunHooks } from '../runs/run-manager.js';
import type { AgentRunner } from '../ports.js';
import type { Metrics } from './metrics.js';

interface ModelCall {
  span: Span;
  name: string;
  started: number;
  attempts: number;
  retries: number;
}

interface RunState {
  span: Span;
  started: number;
  firstToken: number;
  lastToken: number;
  /** The open model call; the last one stays open until the run's usage is known. */
  model: ModelCall | null;
  tools: Map<string, { span: Span; name: string; started: number }>;
  reason: string | null;
}

type AfterRunInput = Parameters<NonNullable<RunHooks['afterRun']>>[0];

const now = () => performance.now();

/**
 * `source`, with `see` called on each event as it passes: a thin iterator (one `then` per
 * event) rather than an async generator, whose every `yield` costs several promises per token.
 * Leaving early closes `source`, as `for await` in a generator would.
 */
function observed(source: AsyncIterable<AgentEvent>, see: (e: AgentEvent) => void): AsyncIterableIterator<AgentEvent> {
  let it: AsyncIterator<AgentEvent> | undefined;
  const seen = (r: IteratorResult<AgentEvent>): IteratorResult<AgentEvent> => {
    if (!r.done) see(r.value);
    return r;
  };
  const self: AsyncIterableIterator<AgentEvent> = {
    [Symbol.asyncIterator]: () => self,
    next: () => (it ??= source[Symbol.asyncIterator]()).next().then(seen),
    return: (value?: unknown) => {
      const inner = it?.return;
      return inner ? inner.call(it).then(() => ({ done: true, value }) as IteratorResult<AgentEvent>) : Promise.resolve({ done: true, value } as IteratorResult<AgentEvent>);
    },
  };
  return self;
}

export interface RunObserver {
  /** Run hooks that add the span (its trace id goes to the run's body) and the run metrics. */
  hooks(base?: RunHooks): RunHooks;
  /** An agent whose events feed token, tool and span timing, and whose model events reach the run's spans. */
  wrapAgent(agent: AgentRunner): AgentRunner;
  /** The model chain's process-wide listener: metrics only (a run's spans get its events through the agent's input). */
  onModelEvent(e: ModelChainEvent): void;
  /** Sets attributes on the span of run `runId` (e.g. the routing decision); a no-op for a run not open here. */
  annotate(runId: string | undefined, attributes: Record<string, string>): void;
}

export function createRunObserver(deps: { tracer: Tracer; metrics: Metrics }): RunObserver {
  const { tracer, metrics } = deps;
  /** The runs open in this process, by run id (added by `wrapRun`, removed when it settles). */
  const open = new Map<string, RunState>();

  const child = (state: RunState, name: string, attributes: Record<string, string | number | boolean>) =>
    tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, state.span));

  const endModel = (state: RunState, error?: string) => {
    const m = state.model;
    if (!m) return;
    state.model = null;
    m.span.setAttributes({ 'switchboard.llm.attempts': m.attempts, 'switchboard.llm.retries': m.retries });
    if (error) m.span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    m.span.end();
    metrics.llmCall(m.name, (now() - m.started) / 1000);
  };

  const onEvent = (state: RunState, e: AgentEvent) => {
    switch (e.type) {
      case 'token': {
        const t = now();
        if (state.firstToken === 0) {
          state.firstToken = t;
          metrics.firstToken((t - state.started) / 1000);
        } else metrics.tokenGap((t - state.lastToken) / 1000);
        state.lastToken = t;
        return;
      }
      case 'tool-start':
        endModel(state);
        state.tools.set(e.callId, { span: child(state, 'tool', { 'switchboard.tool.name': e.name, 'gen_ai.tool.name': e.name, 'langfuse.observation.type': 'tool' }), name: e.name, started: now() });
        return;
      case 'tool-end': {
        const t = state.tools.get(e.callId);
        if (!t) return;
        state.tools.delete(e.callId);
        const ok = e.error === undefined;
        t.span.setAttribute('switchboard.tool.outcome', ok ? 'ok' : 'error');
        if (!ok) t.span.setStatus({ code: SpanStatusCode.ERROR, message: e.error });
        t.span.end();
        metrics.toolCall(t.name, ok, (now() - t.started) / 1000);
        return;
      }
      case 'error':
        state.span.addEvent('error', { 'switchboard.error.code': e.code });
        return;
    }
  };

  const afterRun = (state: RunState, r: AfterRunInput) => {
    const { done } = r;
    state.reason = done.reason;
    const model = done.model ?? 'unknown';
    const input = done.usage?.inputTokens ?? 0;
    const output = done.usage?.outputTokens ?? 0;
    metrics.tokens(model, input, output, r.userId);
    const usage = { 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output };
    state.model?.span.setAttributes(usage);
    endModel(state);
    state.span.setAttributes({ ...usage, 'gen_ai.response.model': model, 'switchboard.run.reason': done.reason, 'switchboard.run.tools': r.tools.length });
    if (done.usage?.costUsd !== undefined) state.span.setAttributes({ 'switchboard.cost.usd': done.usage.costUsd, 'switchboard.cache.hit': done.usage.cached === true });
    if (done.error) state.span.setAttribute('switchboard.error.code', done.error.code);
  };

  const finish = (state: RunState) => {
    endModel(state, state.reason === 'stop' ? undefined : (state.reason ?? 'error'));
    for (const t of state.tools.values()) t.span.end();
    const reason = state.reason ?? 'error';
    if (reason === 'error') state.span.setStatus({ code: SpanStatusCode.ERROR, message: 'run failed' });
    state.span.end();
    metrics.runEnded(reason, (now() - state.started) / 1000);
  };

  /** A model-chain event of the run `state`'s own requests: its `llm` spans. */
  const onRunModelEvent = (state: RunState, e: ModelChainEvent) => {
    switch (e.type) {
      case 'attempt':
        if (state.model && state.model.name === e.model && e.attempt > 1) {
          state.model.attempts = e.attempt;
          return;
        }
        endModel(state);
        state.model = {
          name: e.model,
          started: now(),
          attempts: 1,
          retries: 0,
          span: child(state, 'llm', { 'gen_ai.request.model': e.model, 'gen_ai.system': 'openai', 'gen_ai.operation.name': 'chat', 'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': e.model }),
        };
        return;
      case 'first-token':
        state.model?.span.setAttribute('switchboard.llm.first_token_ms', Math.round(e.latencyMs));
        return;
      case 'failure':
        state.model?.span.addEvent('failure', { 'switchboard.llm.failure': e.reason, ...(e.status ? { 'http.response.status_code': e.status } : {}) });
        return;
      case 'retry':
        if (state.model) state.model.retries++;
        return;
      case 'fallback':
        state.model?.span.setAttribute('switchboard.llm.fallback_to', e.to);
        endModel(state, `fallback: ${e.reason}`);
        return;
      case 'breaker':
        state.span.addEvent('breaker', { 'gen_ai.request.model': e.model, 'switchboard.llm.breaker': e.state });
        return;
    }
  };

  return {
    annotate(runId, attributes) {
      if (runId !== undefined) open.get(runId)?.span.setAttributes(attributes);
    },
    hooks(base = {}) {
      return {
        ...base,
        wrapRun(run, body) {
          const span = tracer.startSpan('run', {
            attributes: { 'session.id': run.sessionId, 'user.id': run.userId, 'switchboard.run.id': run.runId, 'langfuse.trace.name': 'chat run' },
          });
          const state: RunState = { span, started: now(), firstToken: 0, lastToken: 0, model: null, tools: new Map(), reason: null };
          const context = span.spanContext();
          const traceId = isSpanContextValid(context) ? context.traceId : undefined;
          open.set(run.runId, state);
          const inner = base.wrapRun ? base.wrapRun(run, () => body(traceId)) : body(traceId);
          return inner.finally(() => {
            open.delete(run.runId);
            finish(state);
          });
        },
        afterRun(r) {
          const state = open.get(r.runId);
          if (state) afterRun(state, r);
          return base.afterRun ? base.afterRun(r) : Promise.resolve();
        },
      };
    },

    wrapAgent(agent) {
      return {
        stream(input) {
          const state = open.get(input.runId);
          if (!state) return agent.stream(input);
          const source = agent.stream({ ...input, onModelEvent: (e) => onRunModelEvent(state, e) });
          return observed(source, (e) => onEvent(state, e));
        },
      };
    },

    onModelEvent(e) {
      metrics.modelEvent(e);
    },
  };
}
