import { executionAsyncId } from 'node:async_hooks';
import { trace } from '@opentelemetry/api';
import type { AgentEvent } from '@switchboard/agent-core';
import { describe, expect, it } from 'vitest';
import { createLogger, withLogContext } from '../logger.js';
import { createMetrics } from './metrics.js';
import { createRunObserver } from './run-observer.js';

/**
 * Whether promise hooks are on in this process: without them a promise continuation gets no
 * async id of its own (0), with them (an AsyncLocalStorage that ran once) every one does.
 */
async function promiseHooksOn(): Promise<boolean> {
  await null;
  return executionAsyncId() !== 0;
}

describe('run context without an async context', () => {
  it('runs a whole observed run and logs with its ids, and no promise hook gets installed', async () => {
    expect(await promiseHooksOn()).toBe(false); // the test process itself runs without them
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', format: 'json', env: 'test' });
    logger.transports[0]!.log = (info: Record<string, unknown>, next: () => void) => {
      lines.push(info);
      next();
    };
    const observer = createRunObserver({ tracer: trace.getTracer('test'), metrics: createMetrics() });
    const agent = observer.wrapAgent({
      async *stream(input) {
        input.onModelEvent?.({ type: 'attempt', model: 'primary', attempt: 1 });
        yield { type: 'token', text: 'hi' } satisfies AgentEvent;
        yield { type: 'done', reason: 'stop', model: 'primary' } satisfies AgentEvent;
      },
    });
    const run = { sessionId: 's1', runId: 'r1', userId: 'u1' };
    await observer.hooks().wrapRun!(run, async () => {
      const runLog = withLogContext(logger, run);
      for await (const e of agent.stream({ ...run, text: 'hello', signal: new AbortController().signal })) runLog.info('event', { type: e.type });
    });
    expect(lines.map((l) => [l.sessionId, l.runId, l.userId])).toEqual([
      ['s1', 'r1', 'u1'],
      ['s1', 'r1', 'u1'],
    ]);
    expect(await promiseHooksOn()).toBe(false);
  });
});
