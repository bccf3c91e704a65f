import { randomUUID } from 'node:crypto';
import { positiveStoreOption, type HopEventClaim, type HopEventStore } from './event.store.js';
import { HopConfigurationError } from '../core/errors.js';

/**
 * The part of an `ioredis` client the store uses (`new Redis(url)` satisfies it); typed here
 * so that apps without Redis need not install `ioredis`.
 */
export interface HopRedisClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<'OK' | null>;
  get(key: string): Promise<string | null>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  ping(): Promise<unknown>;
}

/** Options of {@link RedisHopEventStore}. */
export interface RedisHopEventStoreOptions {
  /** @default 'hop:event:' */
  keyPrefix?: string;
  /**
   * How long a handled id is remembered, in seconds.
   * @default 86_400 (one day)
   */
  ttlSeconds?: number;
}

const COMPLETED = 'completed';
const PROCESSING = 'processing:';
// Deletes the claim only if this process still holds it (its lease may have lapsed and
// another instance claimed the id since).
const RELEASE_IF_HELD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/**
 * A {@link HopEventStore} shared by every app instance through Redis: a claim is one atomic
 * `SET key value PX lease NX`, so of two instances receiving the same event at once, one runs
 * its handlers and the other waits for the outcome.
 *
 * @example
 * ```ts
 * HopWebhooksModule.forRoot({
 *   secret,
 *   idempotency: { store: new RedisHopEventStore(new Redis(process.env.REDIS_URL)) },
 * })
 * ```
 */
export class RedisHopEventStore implements HopEventStore {
  private readonly keyPrefix: string;
  private readonly ttlMs: number;
  // This process's claims: the value that proves a claim is ours when releasing it.
  private readonly claims = new Map<string, string>();

  constructor(
    private readonly redis: HopRedisClient,
    options: RedisHopEventStoreOptions = {},
  ) {
    if (typeof redis?.set !== 'function' || typeof redis.eval !== 'function') {
      throw new HopConfigurationError(
        'RedisHopEventStore needs an ioredis client, e.g. new RedisHopEventStore(new Redis(url))',
      );
    }
    this.keyPrefix = options.keyPrefix ?? 'hop:event:';
    this.ttlMs =
      positiveStoreOption('RedisHopEventStore', 'ttlSeconds', options.ttlSeconds ?? 86_400) * 1000;
  }

  async claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    const key = this.key(eventId);
    const holder = `${PROCESSING}${randomUUID()}`;
    for (;;) {
      if ((await this.redis.set(key, holder, 'PX', Math.ceil(leaseMs), 'NX')) === 'OK') {
        this.claims.set(eventId, holder);
        return 'claimed';
      }
      const value = await this.redis.get(key);
      // Our own claim: the client resent the SET after losing its first reply.
      if (value === holder) {
        this.claims.set(eventId, holder);
        return 'claimed';
      }
      if (value === COMPLETED) return 'completed';
      if (value !== null) return 'processing';
      // The record lapsed between the two calls: try to claim it again.
    }
  }

  async complete(eventId: string): Promise<void> {
    this.claims.delete(eventId);
    await this.redis.set(this.key(eventId), COMPLETED, 'PX', this.ttlMs);
  }

  async release(eventId: string): Promise<void> {
    const holder = this.claims.get(eventId);
    this.claims.delete(eventId);
    if (holder !== undefined) await this.redis.eval(RELEASE_IF_HELD, 1, this.key(eventId), holder);
  }

  /** One `PING`: resolves once Redis answers it. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  private key(eventId: string): string {
    return `${this.keyPrefix}${eventId}`;
  }
}
