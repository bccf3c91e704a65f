import type { HopEventClaim, HopEventStore } from './hop-event.store.js';
import { HopConfigurationError } from './hop-webhook.errors.js';

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
}

interface EventRecord {
  state: 'processing' | 'completed';
  expiresAt: number;
  /** Where the id sits in the eviction ring. */
  readonly slot: number;
}

/**
 * The default {@link HopEventStore}: bounded and in this process only. With several app
 * instances behind a load balancer, use a shared store such as {@link RedisHopEventStore}.
 */
export class InMemoryHopEventStore implements HopEventStore {
  readonly capacity: number;
  readonly ttlMs: number;
  private readonly records = new Map<string, EventRecord>();
  // Ids in the order they were first remembered; the next slot holds the one to forget. A
  // ring rather than the Map's own order: finding a Map's first key walks over the holes
  // that deletions leave, which made every eviction slower as events kept arriving.
  private readonly ring: Array<string | undefined> = [];
  private nextSlot = 0;

  constructor(options: InMemoryHopEventStoreOptions = {}) {
    this.capacity = positiveInteger(options.capacity ?? 10_000, 'capacity');
    this.ttlMs = positiveInteger(options.ttlSeconds ?? 86_400, 'ttlSeconds') * 1000;
  }

  /** How many ids are remembered now. */
  get size(): number {
    return this.records.size;
  }

  claim(eventId: string, leaseMs: number): HopEventClaim {
    const now = Date.now();
    const record = this.records.get(eventId);
    if (record !== undefined && record.expiresAt > now) return record.state;
    this.remember(eventId, 'processing', now + leaseMs);
    return 'claimed';
  }

  complete(eventId: string): void {
    this.remember(eventId, 'completed', Date.now() + this.ttlMs);
  }

  release(eventId: string): void {
    const record = this.records.get(eventId);
    if (record?.state !== 'processing') return;
    this.records.delete(eventId);
    this.ring[record.slot] = undefined;
  }

  private remember(eventId: string, state: EventRecord['state'], expiresAt: number): void {
    const record = this.records.get(eventId);
    if (record !== undefined) {
      record.state = state;
      record.expiresAt = expiresAt;
      return;
    }
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % this.capacity;
    const forgotten = this.ring[slot];
    if (forgotten !== undefined) this.records.delete(forgotten);
    // Until the ring is full, the slot is its length: the assignment appends.
    this.ring[slot] = eventId;
    this.records.set(eventId, { state, expiresAt, slot });
  }
}

function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new HopConfigurationError(
      `InMemoryHopEventStore: \`${option}\` must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}
