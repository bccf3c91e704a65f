import { HopConfigurationError } from './errors.js';

const SEGMENT_FORMAT = /^(?:\*\*?|[a-z0-9_-]+)$/;

/**
 * A name of dot-separated segments without wildcards, as Hop's event names are and as the
 * `eventPrefix` of re-emitted events must be.
 */
export const DOTTED_NAME_FORMAT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * A compiled `@OnHopEvent` name: exact names route directly (by `name`), wildcards by
 * `test`; both can be tested.
 */
export type HopEventMatcher =
  | { readonly kind: 'exact'; readonly name: string; readonly test: (name: string) => boolean }
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
  if (!pattern.includes('*'))
    return { kind: 'exact', name: pattern, test: (name) => name === pattern };
  if (pattern === '*' || pattern === '**') return { kind: 'wildcard', pattern, test: () => true };
  const source = segments
    .map((segment) =>
      segment === '**' ? '[^.]+(?:\\.[^.]+)*' : segment === '*' ? '[^.]+' : segment,
    )
    .join('\\.');
  const regexp = new RegExp(`^${source}$`);
  return { kind: 'wildcard', pattern, test: (name) => regexp.test(name) };
}

/** Several patterns compiled, with the distinct exact names routed directly. */
export interface CompiledHopEventPatterns {
  readonly matchers: readonly HopEventMatcher[];
  /** The distinct names when every pattern is exact; `null` when one is a wildcard. */
  readonly exactNames: readonly string[] | null;
}

/** Compiles a handler's patterns; throws {@link HopConfigurationError} if there are none. */
export function compileHopEventPatterns(patterns: readonly unknown[]): CompiledHopEventPatterns {
  if (patterns.length === 0) throw new HopConfigurationError('no event name given');
  const matchers = patterns.map(compileHopEventPattern);
  let exactNames: string[] | null = [];
  for (const matcher of matchers) {
    if (matcher.kind === 'wildcard') exactNames = null;
    else if (exactNames !== null && !exactNames.includes(matcher.name))
      exactNames.push(matcher.name);
  }
  return { matchers, exactNames };
}
