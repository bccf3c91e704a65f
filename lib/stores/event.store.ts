import { isWholeNumber } from '../core/checks.js';
import { describeError, HopConfigurationError } from '../core/errors.js';
import { settleWithin } from '../core/settle-within.js';

/**
 * What a store answers when a delivery asks to handle an event id:
 * - `claimed`: no one has handled it; this delivery runs the handlers;
 * - `processing`: another delivery (maybe on another instance) is running them now;
 * - `completed`: its handlers already succeeded; acknowledge without running them.
 */
export type HopEventClaim = 'claimed' | 'processing' | 'completed';

/**
 * Records which event ids were handled, so that Hop's at-least-once delivery runs each
 * event's handlers once. An id is claimed before the handlers run, completed when they all
 * succeeded, and released when one failed (so Hop's retry runs them again).
 *
 * Implement it over a shared database to deduplicate across several app instances; the
 * module ships {@link InMemoryHopEventStore} (the default) and {@link RedisHopEventStore}.
 */
export interface HopEventStore {
  /**
   * `true` when the store answers from this process's memory, with no I/O to wait for: its
   * calls are then not raced against `idempotency.storeTimeoutMs`. Every other store's calls
   * are: one that does not answer in time makes the delivery answer 503, so Hop retries it.
   */
  readonly inProcess?: boolean;
  /**
   * Atomically claims `eventId` for `leaseMs` (after which a claim whose holder vanished
   * lapses), or says why it cannot be claimed.
   */
  claim(eventId: string, leaseMs: number): Promise<HopEventClaim>;
  /** Records that every handler of `eventId` succeeded. */
  complete(eventId: string): Promise<void>;
  /** Drops this delivery's claim on `eventId` after a failure, so a retry can claim it. */
  release(eventId: string): Promise<void>;
  /**
   * Resolves once the store answers a trivial request (Redis: `PING`), for health checks;
   * rejects if it cannot. A store without it is reported as not checked.
   */
  ping?(): Promise<void>;
}

/** What a health check learned of the idempotency store. */
export interface HopEventStoreProbe {
  /** The store's class name (`custom store` without one), or `none` when idempotency is off. */
  readonly store: string;
  /** `up` (answered), `down` (failed or silent past the timeout), or `unchecked` (no `ping`). */
  readonly status: 'up' | 'down' | 'unchecked';
  /** Why it is down. */
  readonly error?: string;
}

/**
 * Asks the store for a sign of life, bounded by `timeoutMs`. A store in this process's memory
 * is up by being here.
 * @internal
 */
export async function probeHopEventStore(
  store: HopEventStore | null,
  timeoutMs: number,
): Promise<HopEventStoreProbe> {
  const name = hopEventStoreName(store);
  if (store === null) return { store: name, status: 'up' };
  if (store.inProcess === true) return { store: name, status: 'up' };
  if (store.ping === undefined) return { store: name, status: 'unchecked' };
  try {
    await settleWithin(store.ping(), timeoutMs, `no answer within ${timeoutMs} ms`);
    return { store: name, status: 'up' };
  } catch (error) {
    return { store: name, status: 'down', error: describeError(error) };
  }
}

/**
 * How health reports name a store: its class, or `none` when idempotency is off.
 * @internal
 */
export function hopEventStoreName(store: HopEventStore | null): string {
  if (store === null) return 'none';
  // A store written as an object literal (or without a prototype) has no class name to show.
  const className = (store.constructor as { name?: string } | undefined)?.name;
  return className && className !== 'Object' ? className : 'custom store';
}

/**
 * A store's whole-number option, checked where the store is built; the message names both.
 * @internal
 */
export function positiveStoreOption(store: string, option: string, value: number): number {
  if (!isWholeNumber(value, 1)) {
    throw new HopConfigurationError(
      `${store}: \`${option}\` must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}
