import { positiveStoreOption, type HopEventClaim, type HopEventStore } from './event.store.js';
import { HopConfigurationError } from '../core/errors.js';

/** Options of {@link InMemoryHopEventStore}. */
export interface InMemoryHopEventStoreOptions {
  /**
   * How many event ids are remembered; beyond it the oldest are forgotten, so memory stays
   * flat however many events arrive. Roughly 150 bytes an id.
   * @default 10_000
   */
  capacity?: number;
  /**
   * How long a handled id is remembered, in seconds.
   * @default 86_400 (one day)
   */
  ttlSeconds?: number;
  /**
   * The clock that leases and expiries are read from, in milliseconds: a test passes one it
   * moves by hand (`now: () => clock.ms`) to step past them without waiting. Read on every
   * claim and completion, as a plain function (not a method relying on `this`).
   * @default Date.now
   */
  now?: () => number;
}

const STORE = 'InMemoryHopEventStore';
const PROCESSING = 0;
const COMPLETED = 1;

/**
 * The default {@link HopEventStore}: bounded and in this process only. With several app
 * instances behind a load balancer, use a shared store such as {@link RedisHopEventStore}.
 */
export class InMemoryHopEventStore implements HopEventStore {
  readonly inProcess = true;
  readonly capacity: number;
  readonly ttlMs: number;
  private readonly now: () => number;
  // Each remembered id has a slot in a ring; the next slot holds the id to forget. Its state
  // and expiry live in arrays by slot, so a record is no object of its own: every delivery
  // leaves one string behind, not three heap objects for the garbage collector to promote.
  // (A ring rather than the Map's own order: finding a Map's first key walks over the holes
  // that deletions leave, which made every eviction slower as events kept arriving.)
  private readonly slots = new Map<string, number>();
  private readonly ids: Array<string | undefined> = [];
  private readonly states: number[] = [];
  private readonly expiries: number[] = [];
  private nextSlot = 0;

  constructor(options: InMemoryHopEventStoreOptions = {}) {
    this.capacity = positiveStoreOption(STORE, 'capacity', options.capacity ?? 10_000);
    this.ttlMs = positiveStoreOption(STORE, 'ttlSeconds', options.ttlSeconds ?? 86_400) * 1000;
    this.now = options.now ?? Date.now;
    if (typeof this.now !== 'function') {
      throw new HopConfigurationError(
        `${STORE}: \`now\` must be a function returning milliseconds, got ${typeof this.now}`,
      );
    }
  }

  /** How many ids hold a slot now (at most `capacity`), released claims included. */
  get size(): number {
    return this.slots.size;
  }

  async claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    const now = this.now();
    const slot = this.slots.get(eventId);
    if (slot !== undefined && this.expiries[slot]! > now) {
      return this.states[slot] === COMPLETED ? 'completed' : 'processing';
    }
    this.remember(eventId, slot, PROCESSING, now + leaseMs);
    return 'claimed';
  }

  async complete(eventId: string): Promise<void> {
    this.remember(eventId, this.slots.get(eventId), COMPLETED, this.now() + this.ttlMs);
  }

  /**
   * Lapses the claim at once. The id keeps its slot, so that claiming it again takes no other
   * id's place: the ring holds `capacity` distinct ids, forgetting the first claimed first.
   */
  async release(eventId: string): Promise<void> {
    const slot = this.slots.get(eventId);
    if (slot !== undefined && this.states[slot] === PROCESSING) {
      this.expiries[slot] = -Infinity;
    }
  }

  private remember(
    eventId: string,
    known: number | undefined,
    state: number,
    expiresAt: number,
  ): void {
    let slot = known;
    if (slot === undefined) {
      slot = this.nextSlot;
      this.nextSlot = (slot + 1) % this.capacity;
      const forgotten = this.ids[slot];
      if (forgotten !== undefined) this.slots.delete(forgotten);
      // Until the ring is full, the slot is the arrays' length: the assignments append.
      this.ids[slot] = eventId;
      this.slots.set(eventId, slot);
    }
    this.states[slot] = state;
    this.expiries[slot] = expiresAt;
  }
}
