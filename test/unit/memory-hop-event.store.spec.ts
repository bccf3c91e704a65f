import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  HopConfigurationError,
  InMemoryHopEventStore,
  type InMemoryHopEventStoreOptions,
} from '../../lib/index.js';
import { thrownBy } from '../src/thrown-by.js';

const LEASE_MS = 1_000;
// Longer than any test moves the clock: a claim held with it never lapses in the test.
const LONG_LEASE_MS = 3_600_000;
const TTL_SECONDS = 60;
const TTL_MS = TTL_SECONDS * 1000;

/** A store whose clock moves only when the test moves it (far from today: Date.now is not read). */
function storeWithClock(options: Omit<InMemoryHopEventStoreOptions, 'now'> = {}) {
  const clock = { ms: 1_000_000 };
  const store = new InMemoryHopEventStore({
    ttlSeconds: TTL_SECONDS,
    ...options,
    now: () => clock.ms,
  });
  return { store, clock };
}

/** Claims and completes each id in turn, as deliveries whose handlers succeeded. */
async function handle(store: InMemoryHopEventStore, ids: string[]): Promise<void> {
  for (const id of ids) {
    expect(await store.claim(id, LEASE_MS)).toBe('claimed');
    await store.complete(id);
  }
}

const ids = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) => `e_${from + index}`);

describe('InMemoryHopEventStore', () => {
  describe('a handled id', () => {
    it('is completed for ttlSeconds from its completion, then can be claimed again', async () => {
      const { store, clock } = storeWithClock();
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
      clock.ms += 500;
      await store.complete('e_1');
      const completedAt = clock.ms;
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      clock.ms = completedAt + TTL_MS - 1;
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      clock.ms = completedAt + TTL_MS;
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
      // Claimed anew: held by that delivery, for its lease.
      expect(await store.claim('e_1', LEASE_MS)).toBe('processing');
    });

    it('stays completed when the delivery that completed it releases it', async () => {
      const { store } = storeWithClock();
      await handle(store, ['e_1']);
      await store.release('e_1');
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
    });
  });

  describe('a claim', () => {
    it('is processing to other deliveries until leaseMs has passed, then one can claim it', async () => {
      const { store, clock } = storeWithClock();
      const claimedAt = clock.ms;
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
      clock.ms = claimedAt + LEASE_MS - 1;
      expect(await store.claim('e_1', LEASE_MS)).toBe('processing');
      clock.ms = claimedAt + LEASE_MS;
      expect(await store.claim('e_1', 2 * LEASE_MS)).toBe('claimed');
      // The new claim holds its own lease, from the moment it was made.
      clock.ms = claimedAt + LEASE_MS + 2 * LEASE_MS - 1;
      expect(await store.claim('e_1', LEASE_MS)).toBe('processing');
      clock.ms += 1;
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
    });

    it('released frees the id at once, with no wait for the lease', async () => {
      const { store } = storeWithClock();
      expect(await store.claim('e_1', LONG_LEASE_MS)).toBe('claimed');
      await store.release('e_1');
      expect(await store.claim('e_1', LONG_LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_1', LONG_LEASE_MS)).toBe('processing');
    });

    it('completed after its lease lapsed is completed for ttlSeconds from then', async () => {
      const { store, clock } = storeWithClock();
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
      clock.ms += 5 * LEASE_MS;
      await store.complete('e_1');
      const completedAt = clock.ms;
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      clock.ms = completedAt + TTL_MS - 1;
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      clock.ms = completedAt + TTL_MS;
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
    });
  });

  describe('at capacity', () => {
    it.each([1, 2, 3, 10])(
      'with capacity %i, remembers the newest ids and forgets the oldest one beyond it',
      async (capacity) => {
        const { store } = storeWithClock({ capacity });
        await handle(store, ids(capacity));
        // Full but not beyond: every id is remembered.
        expect(store.size).toBe(capacity);
        for (const id of ids(capacity)) expect(await store.claim(id, LEASE_MS)).toBe('completed');

        await handle(store, [`e_${capacity}`]);
        expect(store.size).toBe(capacity);
        // The newest `capacity` ids are remembered (asked first: claiming a forgotten id
        // remembers it again, which forgets another)…
        for (const id of ids(capacity, 1))
          expect(await store.claim(id, LEASE_MS)).toBe('completed');
        // …and the oldest, though within its ttl, is forgotten.
        expect(await store.claim('e_0', LEASE_MS)).toBe('claimed');
      },
    );

    it("claiming a released id again takes no other id's slot", async () => {
      const { store } = storeWithClock({ capacity: 3 });
      await handle(store, ['e_a']);
      expect(await store.claim('e_b', LONG_LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_c', LONG_LEASE_MS)).toBe('claimed');
      await store.release('e_b');
      expect(await store.claim('e_b', LONG_LEASE_MS)).toBe('claimed');
      expect(store.size).toBe(3);
      expect(await store.claim('e_a', LONG_LEASE_MS)).toBe('completed');
      for (const id of ['e_b', 'e_c']) {
        expect(await store.claim(id, LONG_LEASE_MS)).toBe('processing');
      }
    });

    it('forgets ids in the order they were first claimed: completing one does not make it newer', async () => {
      const { store } = storeWithClock({ capacity: 3 });
      for (const id of ['e_a', 'e_b', 'e_c']) {
        expect(await store.claim(id, LONG_LEASE_MS)).toBe('claimed');
      }
      await store.complete('e_a');
      expect(await store.claim('e_d', LONG_LEASE_MS)).toBe('claimed');
      for (const id of ['e_b', 'e_c', 'e_d']) {
        expect(await store.claim(id, LONG_LEASE_MS)).toBe('processing');
      }
      expect(await store.claim('e_a', LONG_LEASE_MS)).toBe('claimed');
    });

    it('forgets ids in the order they were first claimed: claiming a lapsed one again does not make it newer', async () => {
      const { store, clock } = storeWithClock({ capacity: 3 });
      expect(await store.claim('e_a', LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_b', LONG_LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_c', LONG_LEASE_MS)).toBe('claimed');
      clock.ms += LEASE_MS;
      expect(await store.claim('e_a', LONG_LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_d', LONG_LEASE_MS)).toBe('claimed');
      for (const id of ['e_b', 'e_c', 'e_d']) {
        expect(await store.claim(id, LONG_LEASE_MS)).toBe('processing');
      }
      expect(await store.claim('e_a', LONG_LEASE_MS)).toBe('claimed');
    });
  });

  describe('size', () => {
    it('counts the ids holding a slot: a completion or a release adds none', async () => {
      const { store } = storeWithClock({ capacity: 5 });
      expect(store.size).toBe(0);
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
      expect(await store.claim('e_2', LEASE_MS)).toBe('claimed');
      expect(store.size).toBe(2);
      await store.complete('e_1');
      await store.release('e_2');
      // Releasing an unknown id, or one already completed, changes nothing.
      await store.release('e_unknown');
      await store.release('e_1');
      expect(store.size).toBe(2);
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      expect(await store.claim('e_2', LEASE_MS)).toBe('claimed');
      expect(store.size).toBe(2);
    });
  });

  describe('defaults', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('reads Date.now and remembers a handled id for one day', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(0);
      const store = new InMemoryHopEventStore();
      await handle(store, ['e_1']);
      vi.setSystemTime(86_400_000 - 1);
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      vi.setSystemTime(86_400_000);
      expect(await store.claim('e_1', LEASE_MS)).toBe('claimed');
    });

    it('remembers 10,000 ids', async () => {
      const store = new InMemoryHopEventStore();
      await handle(store, ids(10_000));
      expect(await store.claim('e_0', LEASE_MS)).toBe('completed');
      await handle(store, ['e_10000']);
      expect(await store.claim('e_1', LEASE_MS)).toBe('completed');
      expect(await store.claim('e_0', LEASE_MS)).toBe('claimed');
    });
  });

  describe('options', () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
      'rejects capacity %s: it must be a positive integer',
      async (capacity) => {
        const error = thrownBy(() => new InMemoryHopEventStore({ capacity }));
        expect(error).toBeInstanceOf(HopConfigurationError);
        expect(error.message).toBe(
          `InMemoryHopEventStore: \`capacity\` must be a positive integer, got ${String(capacity)}`,
        );
      },
    );

    it('rejects a capacity over 16,777,216 ids, which it would take memory for up front', async () => {
      const error = thrownBy(() => new InMemoryHopEventStore({ capacity: 16_777_217 }));
      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toMatch(/`capacity` must be at most 16777216 ids, got 16777217/);
    });

    it.each([0, -60, 0.5, Number.NaN, Number.POSITIVE_INFINITY])(
      'rejects ttlSeconds %s: it must be a positive integer',
      async (ttlSeconds) => {
        const error = thrownBy(() => new InMemoryHopEventStore({ ttlSeconds }));
        expect(error).toBeInstanceOf(HopConfigurationError);
        expect(error.message).toBe(
          `InMemoryHopEventStore: \`ttlSeconds\` must be a positive integer, got ${String(ttlSeconds)}`,
        );
      },
    );

    it('rejects a clock that is not a function', async () => {
      const now = 1_000 as unknown as () => number;
      const error = thrownBy(() => new InMemoryHopEventStore({ now }));
      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toBe(
        'InMemoryHopEventStore: `now` must be a function returning milliseconds, got number',
      );
    });
  });

  describe('against its rules written plainly', () => {
    /** The store's rules as a `Map` and the order ids were first remembered in, slowly. */
    class PlainStore {
      private readonly records = new Map<string, { completed: boolean; expiresAt: number }>();
      private readonly firstRemembered: string[] = [];

      constructor(
        private readonly capacity: number,
        private readonly now: () => number,
      ) {}

      get size(): number {
        return this.records.size;
      }

      claim(id: string, leaseMs: number): string {
        const record = this.records.get(id);
        if (record !== undefined && record.expiresAt > this.now()) {
          return record.completed ? 'completed' : 'processing';
        }
        this.remember(id, false, this.now() + leaseMs);
        return 'claimed';
      }

      complete(id: string): void {
        this.remember(id, true, this.now() + TTL_MS);
      }

      release(id: string): void {
        const record = this.records.get(id);
        if (record !== undefined && !record.completed) record.expiresAt = -Infinity;
      }

      private remember(id: string, completed: boolean, expiresAt: number): void {
        if (!this.records.has(id)) {
          if (this.firstRemembered.length === this.capacity) {
            this.records.delete(this.firstRemembered.shift()!);
          }
          this.firstRemembered.push(id);
        }
        this.records.set(id, { completed, expiresAt });
      }
    }

    /** Numbers in [0, 1) from a seed, the same on every run (mulberry32). */
    function numbersFrom(seed: number): () => number {
      let state = seed;
      return () => {
        state = (state + 0x6d2b79f5) | 0;
        let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
        mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
        return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
      };
    }

    it.each([
      [1, 'its own hash'],
      [2, 'its own hash'],
      [7, 'its own hash'],
      [64, 'its own hash'],
      [1_000, 'its own hash'],
      [2, 'one hash for every id'],
      [7, 'one hash for every id'],
      [64, 'one hash for every id'],
    ] as const)(
      'with capacity %i and %s, answers every claim as they do over 20,000 random operations',
      async (capacity, hashing) => {
        const { store, clock } = storeWithClock({ capacity });
        if (hashing === 'one hash for every id') {
          // The index's worst case: every id in one run of entries, which wraps past its end
          // (-1 is its last entry), and found only by comparing the ids themselves.
          Object.defineProperty(store, 'hashOf', { value: () => -1 });
        }
        const plain = new PlainStore(capacity, () => clock.ms);
        const random = numbersFrom(capacity);
        // Three times as many ids as fit: some are remembered, some forgotten, some new.
        const id = () => `event_${Math.floor(random() * capacity * 3)}`;
        for (let step = 0; step < 20_000; step++) {
          const draw = random();
          if (draw < 0.5) {
            const eventId = id();
            const leaseMs = random() < 0.5 ? LEASE_MS : LONG_LEASE_MS;
            expect([step, await store.claim(eventId, leaseMs)]).toEqual([
              step,
              plain.claim(eventId, leaseMs),
            ]);
          } else if (draw < 0.75) {
            const eventId = id();
            await store.complete(eventId);
            plain.complete(eventId);
          } else if (draw < 0.9) {
            const eventId = id();
            await store.release(eventId);
            plain.release(eventId);
          } else {
            clock.ms += Math.floor(random() * 2 * LEASE_MS);
          }
          expect([step, store.size]).toEqual([step, plain.size]);
        }
      },
    );
  });
});
