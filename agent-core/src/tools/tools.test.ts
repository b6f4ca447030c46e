import { calculatorTool } from './calculator.js';
import { createClockTool, describeTime, isValidTimeZone } from './clock.js';

describe('calculatorTool', () => {
  it('evaluates through the tool interface', async () => {
    expect(await calculatorTool.invoke({ expression: '12*(3+4)' })).toBe('84');
    expect(await calculatorTool.invoke({ expression: '0.1 + 0.2' })).toBe('0.3');
  });

  it('throws a clear error for a bad expression', async () => {
    await expect(calculatorTool.invoke({ expression: '1/0' })).rejects.toThrow('Division by zero');
  });

  it('validates its arguments', async () => {
    await expect(calculatorTool.invoke({ expr: '1' } as never)).rejects.toThrow();
  });
});

describe('clockTool', () => {
  const fixed = new Date('2025-01-01T12:00:00Z');
  const clock = createClockTool({ now: () => fixed });

  it('reports UTC by default', async () => {
    const output = await clock.invoke({});
    expect(output).toContain('Wednesday, 1 January 2025');
    expect(output).toContain('12:00:00 (UTC)');
    expect(output).toContain('ISO 2025-01-01T12:00:00.000Z');
  });

  it('reports the time in an IANA zone', async () => {
    expect(await clock.invoke({ timezone: 'Europe/Berlin' })).toContain('13:00:00 (Europe/Berlin)');
    expect(await clock.invoke({ timezone: 'Asia/Tokyo' })).toContain('21:00:00 (Asia/Tokyo)');
  });

  it('rejects unknown zones with a clear message', async () => {
    await expect(clock.invoke({ timezone: 'Mars/Olympus' })).rejects.toThrow('Unknown time zone "Mars/Olympus"');
    expect(isValidTimeZone('Not a zone')).toBe(false);
    expect(() => describeTime(fixed, '')).toThrow(RangeError);
  });
});
