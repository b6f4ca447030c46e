/**
 * The tool-result cache: results of pure tools (`PURE_TOOLS`: the calculator; never the clock or
 * memory tools) kept per user and input for a TTL. Wraps the tool; everything else about it
 * (name, schema, description) stays the original's.
 */
import { createHash } from 'node:crypto';
import type { StructuredToolInterface } from '@langchain/core/tools';
import type { CacheStore } from '../ports.js';
import { PURE_TOOLS } from './answer-cache.js';

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are one input. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Returns a tool wrapper for the agent's `wrapTool`: pure tools answer from `store` when the same
 * user asked the same input within `ttlMs`; other tools are returned as they are.
 * @example createAgent({ ..., wrapTool: toolCache({ store, ttlMs: 3_600_000, onLookup }) })
 */
export function toolCache(options: { store: CacheStore; ttlMs: number; onLookup?(hit: boolean): void }) {
  return (tool: StructuredToolInterface): StructuredToolInterface => {
    if (!PURE_TOOLS.has(tool.name) || options.ttlMs <= 0) return tool;
    const cached = Object.create(tool) as StructuredToolInterface;
    cached.invoke = (async (input: unknown, config?: { configurable?: { userId?: unknown } }) => {
      const userId = typeof config?.configurable?.userId === 'string' ? config.configurable.userId : '';
      const key = `tool:${createHash('sha256').update(stable([userId, tool.name, input])).digest('base64url')}`;
      const hit = await options.store.get(key).catch(() => null);
      options.onLookup?.(hit !== null);
      if (hit !== null) return hit;
      const output = await tool.invoke(input as never, config as never);
      if (typeof output === 'string') void options.store.set(key, output, options.ttlMs).catch(() => {});
      return output;
    }) as StructuredToolInterface['invoke'];
    return cached;
  };
}
