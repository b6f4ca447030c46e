import { ToolMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { errorMessage, isAbortError } from './errors.js';
import type { ToolEndEvent, ToolStartEvent } from './events.js';

/** One tool call as the model asked for it. `invalidArgs` is set when its arguments were not JSON. */
export interface ToolCallRequest {
  id: string;
  name: string;
  args: unknown;
  invalidArgs?: string;
}

/** Settings of {@link runToolCalls}. */
export interface ToolRunOptions {
  /** The allowlist: only these tools run, by name. */
  tools: ReadonlyMap<string, StructuredToolInterface>;
  /** Per-call time limit; the tool's AbortSignal fires when it passes. */
  timeoutMs: number;
  /** Longest output handed back to the model; longer output is cut with a marker. */
  maxOutputChars: number;
  /** The run's signal: when it fires, running tools are aborted and the run stops. */
  signal?: AbortSignal;
  /** Callbacks and `configurable` (e.g. `userId`) passed on to every tool. */
  config?: Pick<RunnableConfig, 'callbacks' | 'configurable' | 'metadata' | 'tags'>;
  /** Receives `tool-start` before and `tool-end` after each call. */
  onEvent?: (event: ToolStartEvent | ToolEndEvent) => void;
}

class ToolCallError extends Error {
  override readonly name = 'ToolCallError';
}

/** Cuts `text` to at most `max` characters, saying how much was dropped. */
export function capOutput(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n…[truncated ${text.length - max} characters]`;
  const keep = Math.max(0, max - marker.length);
  return text.slice(0, keep) + marker;
}

function outputToText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output instanceof ToolMessage) return typeof output.content === 'string' ? output.content : JSON.stringify(output.content);
  if (output === undefined) return '';
  try {
    return JSON.stringify(output) ?? String(output);
  } catch {
    return String(output);
  }
}

interface SafeParseLike {
  safeParse(value: unknown): { success: boolean; error?: { issues?: Array<{ path?: PropertyKey[]; message: string }> } };
}

function hasSafeParse(schema: unknown): schema is SafeParseLike {
  return typeof schema === 'object' && schema !== null && typeof (schema as SafeParseLike).safeParse === 'function';
}

/** Validates `args` against the tool's zod schema; returns a readable problem or undefined. */
function validateArgs(tool: StructuredToolInterface, args: unknown): string | undefined {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return 'arguments must be a JSON object';
  if (!hasSafeParse(tool.schema)) return undefined; // JSON-schema tools validate inside invoke()
  const result = tool.schema.safeParse(args);
  if (result.success) return undefined;
  const issues = result.error?.issues ?? [];
  if (issues.length === 0) return 'arguments do not match the schema';
  return issues
    .map((issue) => {
      const path = (issue.path ?? []).map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function abortPromise(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

async function invokeWithLimits(tool: StructuredToolInterface, call: ToolCallRequest, options: ToolRunOptions): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const aborted = abortPromise(signal);
  try {
    const output = await Promise.race([
      tool.invoke(call.args as Record<string, unknown>, { ...options.config, signal, runName: call.name }),
      aborted.promise,
    ]);
    return outputToText(output);
  } catch (error) {
    if (options.signal?.aborted) throw error; // the run was cancelled: stop, don't report to the model
    if (timeout.aborted) throw new ToolCallError(`tool "${call.name}" timed out after ${options.timeoutMs} ms`);
    if (error instanceof Error && error.name === 'ToolInputParsingException') {
      throw new ToolCallError(`invalid arguments for "${call.name}": ${error.message}`);
    }
    throw new ToolCallError(errorMessage(error));
  } finally {
    aborted.dispose();
  }
}

async function runOne(call: ToolCallRequest, options: ToolRunOptions): Promise<ToolMessage> {
  options.onEvent?.({ type: 'tool-start', callId: call.id, name: call.name, input: call.args });
  const tool = options.tools.get(call.name);
  let problem: string | undefined;
  if (!tool) {
    const known = [...options.tools.keys()].join(', ') || 'none';
    problem = `unknown tool "${call.name}"; available tools: ${known}`;
  } else if (call.invalidArgs !== undefined) {
    problem = `invalid arguments for "${call.name}": not valid JSON (${call.invalidArgs})`;
  } else {
    const invalid = validateArgs(tool, call.args);
    if (invalid) problem = `invalid arguments for "${call.name}": ${invalid}`;
  }
  let output = '';
  if (tool && problem === undefined) {
    try {
      output = capOutput(await invokeWithLimits(tool, call, options), options.maxOutputChars);
    } catch (error) {
      if (options.signal?.aborted || (isAbortError(error) && !(error instanceof ToolCallError))) throw error;
      problem = errorMessage(error);
    }
  }
  if (problem !== undefined) {
    const message = capOutput(problem, options.maxOutputChars);
    options.onEvent?.({ type: 'tool-end', callId: call.id, name: call.name, error: message });
    return new ToolMessage({ content: `Error: ${message}`, tool_call_id: call.id, name: call.name, status: 'error' });
  }
  options.onEvent?.({ type: 'tool-end', callId: call.id, name: call.name, output });
  return new ToolMessage({ content: output, tool_call_id: call.id, name: call.name, status: 'success' });
}

/**
 * Runs the model's tool calls concurrently with the safety rules of the agent: only allowlisted
 * tools, arguments validated by the tool's schema, a per-call timeout, capped output. Every
 * failure becomes an error ToolMessage for the model; only cancellation of the run throws.
 */
export async function runToolCalls(calls: readonly ToolCallRequest[], options: ToolRunOptions): Promise<ToolMessage[]> {
  return Promise.all(calls.map((call) => runOne(call, options)));
}
