import { isWholeNumber } from '../core/checks.js';
import { HopConfigurationError } from '../core/errors.js';

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
