import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';

/** Arguments of the `clock` tool. */
export const clockSchema = z.object({
  timezone: z
    .string()
    .max(64)
    .optional()
    .describe('An IANA time zone such as "Europe/Berlin" or "America/New_York". Defaults to UTC.'),
});

/** True when `timeZone` is an IANA zone (or alias) this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Formats `date` in `timeZone` as "Wednesday, 1 January 2025, 13:00:00 (Europe/Berlin); ISO 2025-…Z". */
export function describeTime(date: Date, timeZone = 'UTC'): string {
  if (!isValidTimeZone(timeZone)) {
    throw new RangeError(`Unknown time zone "${timeZone}"; use an IANA name such as "Europe/Berlin"`);
  }
  const local = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(date);
  return `${local} (${timeZone}); ISO ${date.toISOString()}`;
}

/** Options of {@link createClockTool}. */
export interface ClockToolOptions {
  /**
   * Source of the current time (tests pin it).
   * @default () => new Date()
   */
  now?: () => Date;
}

/** Creates a `clock` tool that reports the current date and time, optionally in a time zone. */
export function createClockTool(options: ClockToolOptions = {}): StructuredToolInterface {
  const now = options.now ?? (() => new Date());
  return tool(({ timezone }: z.infer<typeof clockSchema>) => describeTime(now(), timezone ?? 'UTC'), {
    name: 'clock',
    description: 'Get the current date and time, optionally in an IANA time zone (default UTC).',
    schema: clockSchema,
  });
}

/**
 * The `clock` tool on the system clock.
 *
 * @example
 * await clockTool.invoke({ timezone: 'Europe/Berlin' })
 */
export const clockTool: StructuredToolInterface = createClockTool();
