import { HopConfigurationError } from './hop-webhook.errors.js';

const SEGMENT_FORMAT = /^(?:\*\*?|[a-z0-9_-]+)$/;

/** A compiled `@OnHopEvent` name: exact names route directly, wildcards are tested. */
export type HopEventMatcher =
  | { readonly kind: 'exact'; readonly name: string }
  | {
      readonly kind: 'wildcard';
      readonly pattern: string;
      readonly test: (name: string) => boolean;
    };

/**
 * Compiles an event name or wildcard (`*` alone = everything; otherwise `*` = one segment,
 * `**` = one or more segments). Throws {@link HopConfigurationError} for a malformed one.
 */
export function compileHopEventPattern(pattern: unknown): HopEventMatcher {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new HopConfigurationError(
      `an event name must be a non-empty string, got ${JSON.stringify(pattern)}`,
    );
  }
  const segments = pattern.split('.');
  if (!segments.every((segment) => SEGMENT_FORMAT.test(segment))) {
    throw new HopConfigurationError(
      `'${pattern}' is not an event name or wildcard: use dot-separated lower-case segments, '*' for one segment, '**' for several`,
    );
  }
  if (!pattern.includes('*')) return { kind: 'exact', name: pattern };
  if (pattern === '*' || pattern === '**') return { kind: 'wildcard', pattern, test: () => true };
  const source = segments
    .map((segment) =>
      segment === '**' ? '[^.]+(?:\\.[^.]+)*' : segment === '*' ? '[^.]+' : segment,
    )
    .join('\\.');
  const regexp = new RegExp(`^${source}$`);
  return { kind: 'wildcard', pattern, test: (name) => regexp.test(name) };
}
