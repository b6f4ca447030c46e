/** Small helpers shared by the repositories. */
import { InvalidInputError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a uuid string (any version); non-uuids are "no such row", not errors. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Throws InvalidInputError unless `value` is a uuid. */
export function requireUuid(value: unknown, name: string): string {
  if (!isUuid(value)) throw new InvalidInputError(`${name} must be a uuid`);
  return value;
}

/** ISO-8601 from a driver timestamp (Date from pg and PGlite; string tolerated). */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** Clamps a page size. */
export function pageLimit(limit: number | undefined, fallback = 50, max = 200): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError('limit must be a positive integer');
  return Math.min(limit, max);
}

/** A date-only `YYYY-MM-DD` that is a real calendar day. */
export function requireDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new InvalidInputError(`day must be YYYY-MM-DD: ${day}`);
  }
  return day;
}
