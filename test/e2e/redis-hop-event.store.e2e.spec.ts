import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisHopEventStore, type HopEventClaim } from '../../lib/index.js';
import { startRedis, type RunningRedis } from '../src/redis-server.js';

const SHORT_LEASE_MS = 50;
const LONG_LEASE_MS = 60_000;
const TTL_SECONDS = 60;
// Leases and expiries are Redis's to keep: poll for the outcome, with room for a busy machine.
const POLL = { timeout: 10_000, interval: 10 };

describe('RedisHopEventStore against redis-server', () => {
  let redis: RunningRedis | undefined;
  let unavailable: string | undefined;
  let client: Redis;
  let keyPrefix: string;
  let eventId: string;

  beforeAll(async () => {
    const started = await startRedis();
    if ('unavailable' in started) {
      unavailable = started.unavailable;
      console.warn(`SKIPPED Redis store tests: ${started.unavailable}`);
      return;
    }
    redis = started;
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });
  beforeEach(() => {
    keyPrefix = `hop-store-test:${randomUUID()}:`;
    eventId = `e_${randomUUID()}`;
  });

  /** A store as one app instance has it: its own claims, the test's Redis and key prefix. */
  const instance = (ttlSeconds = TTL_SECONDS) =>
    new RedisHopEventStore(client, { keyPrefix, ttlSeconds });

  /** Claims `eventId` until the store answers `claimed`; every answer before it must be `processing`. */
  async function claimOnceLapsed(store: RedisHopEventStore, leaseMs: number): Promise<void> {
    const answers: HopEventClaim[] = [];
    await vi.waitFor(async () => {
      answers.push(await store.claim(eventId, leaseMs));
      expect(answers.at(-1)).toBe('claimed');
    }, POLL);
    expect(answers.slice(0, -1).every((answer) => answer === 'processing')).toBe(true);
  }

  it('holds a claim for leaseMs (PX), after which another instance can claim it', async (context) => {
    if (!redis) return context.skip(unavailable);
    const [first, second] = [instance(), instance()];
    expect(await first.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
    const pttl = await client.pttl(`${keyPrefix}${eventId}`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(LONG_LEASE_MS);
    expect(await second.claim(eventId, LONG_LEASE_MS)).toBe('processing');

    const lapsingId = eventId;
    eventId = `e_${randomUUID()}`;
    expect(await first.claim(eventId, SHORT_LEASE_MS)).toBe('claimed');
    await claimOnceLapsed(second, LONG_LEASE_MS);
    // The long claim is still held: only the short lease lapsed.
    expect(await second.claim(lapsingId, LONG_LEASE_MS)).toBe('processing');
  });

  it('keeps a completed record for ttlSeconds: its PTTL is the ttl, not the lease', async (context) => {
    if (!redis) return context.skip(unavailable);
    const [first, second] = [instance(), instance()];
    expect(await first.claim(eventId, 1_000)).toBe('claimed');
    await first.complete(eventId);
    const pttl = await client.pttl(`${keyPrefix}${eventId}`);
    expect(pttl).toBeGreaterThan(1_000);
    expect(pttl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
    expect(await second.claim(eventId, LONG_LEASE_MS)).toBe('completed');
  });

  it('forgets a completed id after ttlSeconds', async (context) => {
    if (!redis) return context.skip(unavailable);
    const [first, second] = [instance(1), instance(1)];
    expect(await first.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
    await first.complete(eventId);
    const answers: HopEventClaim[] = [];
    await vi.waitFor(async () => {
      answers.push(await second.claim(eventId, LONG_LEASE_MS));
      expect(answers.at(-1)).toBe('claimed');
    }, POLL);
    expect(answers.slice(0, -1).every((answer) => answer === 'completed')).toBe(true);
  });

  it('writes its records under keyPrefix, apart from stores with another prefix', async (context) => {
    if (!redis) return context.skip(unavailable);
    expect(await instance().claim(eventId, LONG_LEASE_MS)).toBe('claimed');
    expect(await client.exists(`${keyPrefix}${eventId}`)).toBe(1);
    const otherPrefix = new RedisHopEventStore(client, { keyPrefix: `${keyPrefix}other:` });
    expect(await otherPrefix.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
    await otherPrefix.complete(eventId);
    expect(await instance().claim(eventId, LONG_LEASE_MS)).toBe('processing');
  });

  it("writes under 'hop:event:' by default", async (context) => {
    if (!redis) return context.skip(unavailable);
    const key = `hop:event:${eventId}`;
    try {
      expect(await new RedisHopEventStore(client).claim(eventId, LONG_LEASE_MS)).toBe('claimed');
      expect(await client.exists(key)).toBe(1);
    } finally {
      await client.del(key);
    }
  });

  it('frees the id at once when the claiming instance releases it', async (context) => {
    if (!redis) return context.skip(unavailable);
    const [first, second] = [instance(), instance()];
    expect(await first.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
    await first.release(eventId);
    expect(await second.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
  });

  it('releases only its own claim, not the one another instance took after its lease lapsed', async (context) => {
    if (!redis) return context.skip(unavailable);
    const [first, second, third] = [instance(), instance(), instance()];
    expect(await first.claim(eventId, SHORT_LEASE_MS)).toBe('claimed');
    await claimOnceLapsed(second, LONG_LEASE_MS);
    // The first instance's handlers failed late: its release must not drop the second's claim.
    await first.release(eventId);
    expect(await third.claim(eventId, LONG_LEASE_MS)).toBe('processing');
    await second.release(eventId);
    expect(await third.claim(eventId, LONG_LEASE_MS)).toBe('claimed');
  });
});
