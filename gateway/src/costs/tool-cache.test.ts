import { calculatorTool, createClockTool } from '@switchboard/agent-core';
import { createMemoryCacheStore } from '../backends/memory/cost-state.js';
import { toolCache } from './tool-cache.js';

describe('toolCache', () => {
  it('answers a pure tool from the cache per user and input, and leaves other tools alone', async () => {
    const lookups: boolean[] = [];
    const store = createMemoryCacheStore();
    const wrap = toolCache({ store, ttlMs: 60_000, onLookup: (hit) => lookups.push(hit) });
    const calc = wrap(calculatorTool);
    expect(calc.name).toBe('calculator');
    expect(calc.schema).toBe(calculatorTool.schema);
    const alice = { configurable: { userId: 'alice' } };
    const bob = { configurable: { userId: 'bob' } };
    expect(await calc.invoke({ expression: '12*(3+4)' }, alice)).toBe('84');
    expect(await calc.invoke({ expression: '12*(3+4)' }, alice)).toBe('84');
    expect(await calc.invoke({ expression: '12*(3+4)' }, bob)).toBe('84');
    expect(await calc.invoke({ expression: '1+1' }, alice)).toBe('2');
    expect(lookups).toEqual([false, true, false, false]);
    await expect(calc.invoke({ expression: '1/' }, alice)).rejects.toThrow();

    const clock = createClockTool();
    expect(wrap(clock)).toBe(clock);
    expect(toolCache({ store, ttlMs: 0 })(calculatorTool)).toBe(calculatorTool);
  });
});
