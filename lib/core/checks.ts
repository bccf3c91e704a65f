/**
 * The checks that options, requests and answers share, each written once; every caller words
 * its own message around them.
 */

/** The longest a Node timer waits: 2^31 - 1 ms (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** An integer from `min` to `max` (both included). */
export function isWholeNumber(
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** An absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const { protocol, host } = new URL(value);
  return (protocol === 'http:' || protocol === 'https:') && host !== '';
}

/** Whether `value` is a JSON object: not `null`, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What {@link readJsonObject} found instead of an object. */
export type NotAJsonObject = 'not_json' | 'not_object';

/**
 * Parses JSON text that should hold an object. Says what it found otherwise, never how:
 * `JSON.parse`'s own message quotes the text, which must reach no log or answer.
 * Keys such as `__proto__` become the object's own data, as `JSON.parse` makes them.
 */
export function readJsonObject(text: string): Record<string, unknown> | NotAJsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not_json';
  }
  return isJsonObject(value) ? value : 'not_object';
}

/** The pause before retry number `attempt` (0 first): doubling from `firstMs`, at most `maxMs`. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(firstMs * 2 ** attempt, maxMs);
}
