import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import type { ToolEndEvent, ToolStartEvent } from './events.js';
import { capOutput, runToolCalls, type ToolRunOptions } from './tool-runner.js';
import { calculatorTool } from './tools/calculator.js';

const echo = tool(({ text }: { text: string }) => text, {
  name: 'echo',
  description: 'echo',
  schema: z.object({ text: z.string() }),
});
const hang = tool(() => new Promise<string>(() => {}), { name: 'hang', description: 'never returns', schema: z.object({}) });
const whoami = tool((_: Record<string, never>, config) => String(config?.configurable?.userId), {
  name: 'whoami',
  description: 'user id',
  schema: z.object({}),
});
const crash = tool((): string => { throw new Error('disk on fire'); }, { name: 'crash', description: 'fails', schema: z.object({}) });

function setup(overrides: Partial<ToolRunOptions> = {}) {
  const events: Array<ToolStartEvent | ToolEndEvent> = [];
  const tools = new Map<string, StructuredToolInterface>([calculatorTool, echo, hang, whoami, crash].map((t) => [t.name, t]));
  const options: ToolRunOptions = { tools, timeoutMs: 1000, maxOutputChars: 100, onEvent: (e) => events.push(e), ...overrides };
  return { events, options };
}

describe('runToolCalls', () => {
  it('runs a registered tool and reports start and end', async () => {
    const { events, options } = setup();
    const [message] = await runToolCalls([{ id: 'c1', name: 'calculator', args: { expression: '2+2' } }], options);
    expect(message.content).toBe('4');
    expect(message.tool_call_id).toBe('c1');
    expect(message.status).toBe('success');
    expect(events).toEqual([
      { type: 'tool-start', callId: 'c1', name: 'calculator', input: { expression: '2+2' } },
      { type: 'tool-end', callId: 'c1', name: 'calculator', output: '4' },
    ]);
  });

  it('turns an unknown tool into an error result, not a crash', async () => {
    const { events, options } = setup();
    const [message] = await runToolCalls([{ id: 'c1', name: 'rm_rf', args: {} }], options);
    expect(message.status).toBe('error');
    expect(message.content).toMatch(/^Error: unknown tool "rm_rf"; available tools: calculator, echo/);
    expect(events[1]).toMatchObject({ type: 'tool-end', error: expect.stringContaining('unknown tool') });
  });

  it.each([
    [{ expr: '1+1' }, 'expression'],
    [{ expression: 42 }, 'expression'],
    [{ expression: '' }, 'expression'],
    ['not an object', 'JSON object'],
    [null, 'JSON object'],
    [[1, 2], 'JSON object'],
  ])('rejects bad arguments %j with a message for the model', async (args, mention) => {
    const { events, options } = setup();
    const [message] = await runToolCalls([{ id: 'c1', name: 'calculator', args }], options);
    expect(message.status).toBe('error');
    expect(message.content).toContain('invalid arguments for "calculator"');
    expect(message.content).toContain(mention);
    expect((events[1] as ToolEndEvent).error).toContain('invalid arguments');
  });

  it('reports arguments that were not JSON', async () => {
    const { options } = setup();
    const [message] = await runToolCalls([{ id: 'c1', name: 'echo', args: '{"text": ', invalidArgs: 'Unexpected end' }], options);
    expect(message.content).toContain('not valid JSON');
  });

  it('turns a throwing tool into an error result', async () => {
    const { options } = setup();
    const [message] = await runToolCalls([{ id: 'c1', name: 'crash', args: {} }], options);
    expect(message.content).toBe('Error: disk on fire');
  });

  it('times out a hanging tool', async () => {
    const { events, options } = setup({ timeoutMs: 20 });
    const [message] = await runToolCalls([{ id: 'c1', name: 'hang', args: {} }], options);
    expect(message.content).toBe('Error: tool "hang" timed out after 20 ms');
    expect(events.at(-1)).toMatchObject({ type: 'tool-end', error: 'tool "hang" timed out after 20 ms' });
  });

  it('caps long output', async () => {
    const { events, options } = setup({ maxOutputChars: 50 });
    const [message] = await runToolCalls([{ id: 'c1', name: 'echo', args: { text: 'x'.repeat(1000) } }], options);
    expect(String(message.content).length).toBeLessThanOrEqual(50);
    expect(String(message.content)).toContain('[truncated');
    expect(((events[1] as ToolEndEvent).output ?? '').length).toBeLessThanOrEqual(50);
  });

  it('passes configurable (userId) to the tool', async () => {
    const { options } = setup({ config: { configurable: { userId: 'user-7' } } });
    const [message] = await runToolCalls([{ id: 'c1', name: 'whoami', args: {} }], options);
    expect(message.content).toBe('user-7');
  });

  it('runs several calls and answers each by id', async () => {
    const { options } = setup();
    const messages = await runToolCalls(
      [
        { id: 'a', name: 'calculator', args: { expression: '1+1' } },
        { id: 'b', name: 'nope', args: {} },
        { id: 'c', name: 'echo', args: { text: 'hi' } },
      ],
      options,
    );
    expect(messages.map((m) => [m.tool_call_id, m.status])).toEqual([['a', 'success'], ['b', 'error'], ['c', 'success']]);
  });

  it('rejects when the run is cancelled while a tool runs', async () => {
    const controller = new AbortController();
    const { options } = setup({ signal: controller.signal, timeoutMs: 60_000 });
    const running = runToolCalls([{ id: 'c1', name: 'hang', args: {} }], options);
    setImmediate(() => controller.abort());
    await expect(running).rejects.toThrow();
  });
});

describe('capOutput', () => {
  it('leaves short text alone and cuts long text to the cap', () => {
    expect(capOutput('abc', 10)).toBe('abc');
    const capped = capOutput('y'.repeat(500), 120);
    expect(capped.length).toBe(120);
    expect(capped).toMatch(/…\[truncated 380 characters\]$/);
  });
});
