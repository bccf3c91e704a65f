import { describe, expect, it } from 'vitest';
import { RedisHopEventStore, type HopRedisClient } from '../../lib/index.js';

/**
 * A Redis that keeps keys in a map, whose `SET … NX` can behave as a client that lost the
 * first reply and resent the command: the key is written, and the resent command answers null.
 */
class ResendingRedis implements HopRedisClient {
  readonly keys = new Map<string, string>();
  loseNextSetReply = false;

  async set(key: string, value: string, ...args: unknown[]): Promise<'OK' | null> {
    const nx = args.includes('NX');
    if (nx && this.keys.has(key)) return null;
    this.keys.set(key, value);
    if (nx && this.loseNextSetReply) {
      this.loseNextSetReply = false;
      return null;
    }
    return 'OK';
  }

  async get(key: string): Promise<string | null> {
    return this.keys.get(key) ?? null;
  }

  async eval(_script: string, _keys: number, key: string, holder: string): Promise<number> {
    if (this.keys.get(key) !== holder) return 0;
    this.keys.delete(key);
    return 1;
  }

  async ping(): Promise<string> {
    return 'PONG';
  }
}

describe('RedisHopEventStore', () => {
  it('recognises its own claim when the client resent SET NX after losing the reply', async () => {
    const redis = new ResendingRedis();
    const store = new RedisHopEventStore(redis);
    redis.loseNextSetReply = true;
    expect(await store.claim('e_1', 1_000)).toBe('claimed');
    // Still this delivery's claim: releasing it (after a failure) frees the id for a retry.
    await store.release('e_1');
    expect(await store.claim('e_1', 1_000)).toBe('claimed');
  });

  it('answers processing to another delivery while the claim is held, completed after', async () => {
    const redis = new ResendingRedis();
    const first = new RedisHopEventStore(redis);
    const second = new RedisHopEventStore(redis);
    expect(await first.claim('e_2', 1_000)).toBe('claimed');
    expect(await second.claim('e_2', 1_000)).toBe('processing');
    // Another instance's release does not drop a claim it does not hold.
    await second.release('e_2');
    expect(await second.claim('e_2', 1_000)).toBe('processing');
    await first.complete('e_2');
    expect(await second.claim('e_2', 1_000)).toBe('completed');
  });
});
