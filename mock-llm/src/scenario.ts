/**
 * Scenarios: how the mock OpenAI server behaves for one model name or one request.
 * Latency (time to first token, tokens per second, jitter) and injected faults.
 */

/** Faults the mock can inject, as a const object (maps onto a string union). */
export const MockFault = {
  none: 'none',
  rateLimited: '429',
  serverError: '500',
  unavailable: '503',
  /** Accept the request and never answer (until the client gives up). */
  hang: 'hang',
  /** Stream `cutAfterChunks` chunks, then destroy the socket. */
  cut: 'cut',
  /** Send a non-JSON `data:` line after `malformedAfterChunks` chunks. */
  malformed: 'malformed',
} as const;
export type MockFault = (typeof MockFault)[keyof typeof MockFault];

const FAULTS = new Set<string>(Object.values(MockFault));

/** Behaviour of the mock for one model (or one request via the `x-mock-scenario` header). */
export interface MockScenario {
  /** Delay before the first token (and before a non-streaming answer), in ms. @default 0 */
  ttftMs?: number;
  /** Pace of streamed tokens; 0 streams as fast as possible. @default 0 */
  tokensPerSecond?: number;
  /** Uniform random jitter added to each delay, ± this many ms. @default 0 */
  jitterMs?: number;
  /** Number of tokens in a plain text answer. @default 12 */
  responseTokens?: number;
  /** Fixed answer text (split on spaces into tokens) instead of the generated one. */
  text?: string;
  /** Injected fault. @default 'none' */
  fault?: MockFault;
  /** Apply `fault` only to the first N requests for this model, then succeed. Unset: always. */
  failFirst?: number;
  /** `Retry-After` (seconds) sent with 429 and 503. @default 1 */
  retryAfterSec?: number;
  /** Chunks (role chunk included) streamed before a `cut`. @default 2 */
  cutAfterChunks?: number;
  /** Chunks (role chunk included) streamed before the malformed one. @default 2 */
  malformedAfterChunks?: number;
  /**
   * Answer with this tool call (when the request offers the tool and its last message is not a
   * tool result), instead of deciding from the text. Lets a test script any tool, not only `calculator`.
   */
  toolCall?: { name: string; arguments: Record<string, unknown> };
  /** Fixed answer after a tool result, instead of quoting the result ("The result is …"). */
  textAfterTool?: string;
}

/** A scenario with every field filled in. */
export type ResolvedScenario = Required<Omit<MockScenario, 'text' | 'failFirst' | 'toolCall' | 'textAfterTool'>> &
  Pick<MockScenario, 'text' | 'failFirst' | 'toolCall' | 'textAfterTool'>;

export const scenarioDefaults = {
  ttftMs: 0,
  tokensPerSecond: 0,
  jitterMs: 0,
  responseTokens: 12,
  fault: 'none',
  retryAfterSec: 1,
  cutAfterChunks: 2,
  malformedAfterChunks: 2,
} satisfies ResolvedScenario;

/** Thrown for a scenario that cannot be understood (CLI flag, env JSON or header). */
export class MockScenarioError extends Error {
  readonly code = 'bad_scenario';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MockScenarioError';
  }
}

const NUMERIC_KEYS = [
  'ttftMs',
  'tokensPerSecond',
  'jitterMs',
  'responseTokens',
  'failFirst',
  'retryAfterSec',
  'cutAfterChunks',
  'malformedAfterChunks',
] as const;

/** Validates an unknown value (parsed JSON) as a scenario. `where` names the source in errors. */
export function validateScenario(value: unknown, where: string): MockScenario {
  if (typeof value === 'string') return validateScenario({ fault: value }, where);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MockScenarioError(`${where}: a scenario must be an object or a fault name`);
  }
  const out: MockScenario = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if ((NUMERIC_KEYS as readonly string[]).includes(key)) {
      const n = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        throw new MockScenarioError(`${where}: ${key} must be a number >= 0, got ${JSON.stringify(raw)}`);
      }
      out[key as (typeof NUMERIC_KEYS)[number]] = n;
    } else if (key === 'fault') {
      const fault = String(raw);
      if (!FAULTS.has(fault)) {
        throw new MockScenarioError(
          `${where}: fault must be one of ${[...FAULTS].join(', ')}, got ${JSON.stringify(raw)}`,
        );
      }
      out.fault = fault as MockFault;
    } else if (key === 'text' || key === 'textAfterTool') {
      if (typeof raw !== 'string') throw new MockScenarioError(`${where}: ${key} must be a string`);
      out[key] = raw;
    } else if (key === 'toolCall') {
      const call = raw as { name?: unknown; arguments?: unknown } | null;
      const args = call?.arguments ?? {};
      if (typeof call?.name !== 'string' || call.name === '' || typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new MockScenarioError(`${where}: toolCall must be {"name": string, "arguments"?: object}`);
      }
      out.toolCall = { name: call.name, arguments: args as Record<string, unknown> };
    } else {
      throw new MockScenarioError(`${where}: unknown scenario key "${key}"`);
    }
  }
  return out;
}

/**
 * Parses `key=value,key=value` (or a bare fault name such as `429`) into a scenario.
 * @example parseScenarioSpec('fault=429,retryAfterSec=1', '--model primary')
 */
export function parseScenarioSpec(spec: string, where: string): MockScenario {
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) return validateScenario(parseJson(trimmed, where), where);
  if (!trimmed.includes('=')) return validateScenario({ fault: trimmed }, where);
  const entries: Record<string, string> = {};
  for (const part of trimmed.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new MockScenarioError(`${where}: expected key=value, got "${part}"`);
    entries[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return validateScenario(entries, where);
}

/** Parses `{"model": scenario, ...}` JSON (e.g. from an environment variable). */
export function parseScenarioMap(json: string, where: string): Record<string, MockScenario> {
  const value = parseJson(json, where);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MockScenarioError(`${where}: expected a JSON object of model name → scenario`);
  }
  const out: Record<string, MockScenario> = {};
  for (const [model, scenario] of Object.entries(value as Record<string, unknown>)) {
    out[model] = validateScenario(scenario, `${where}.${model}`);
  }
  return out;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MockScenarioError(`${where}: invalid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Fills defaults: request header scenario over model scenario over default scenario. */
export function resolveScenario(...layers: Array<MockScenario | undefined>): ResolvedScenario {
  const merged: ResolvedScenario = { ...scenarioDefaults };
  for (const layer of layers) if (layer) Object.assign(merged, layer);
  return merged;
}
