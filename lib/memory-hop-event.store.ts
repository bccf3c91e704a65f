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
  readonly state: 'processing' | 'completed';
  readonly expiresAt: number;
}

/**
 * The default {@link HopEventStore}: bounded and in this process only. With several app
 * instances behind a load balancer, use a shared store such as {@link RedisHopEventStore}.
 */
export class InMemoryHopEventStore implements HopEventStore {
  readonly capacity: number;
  readonly ttlMs: number;
  // A Map iterates in insertion order, so its first key is always the oldest record.
  private readonly records = new Map<string, EventRecord>();

  constructor(options: InMemoryHopEventStoreOptions = {}) {
    this.capacity = positiveInteger(options.capacity ?? 10_000, 'capacity');
    this.ttlMs = positiveInteger(options.ttlSeconds ?? 86_400, 'ttlSeconds') * 1000;
  }

  /** How many ids are remembered now. */
  get size(): number {
    return this.records.size;
  }

  async claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    const now = Date.now();
    const record = this.records.get(eventId);
    if (record !== undefined && record.expiresAt > now) return record.state;
    this.remember(eventId, { state: 'processing', expiresAt: now + leaseMs });
    return 'claimed';
  }

  async complete(eventId: string): Promise<void> {
    this.remember(eventId, { state: 'completed', expiresAt: Date.now() + this.ttlMs });
  }

  async release(eventId: string): Promise<void> {
    if (this.records.get(eventId)?.state === 'processing') this.records.delete(eventId);
  }

  private remember(eventId: string, record: EventRecord): void {
    this.records.delete(eventId);
    this.records.set(eventId, record);
    if (this.records.size <= this.capacity) return;
    const oldest = this.records.keys().next().value as string;
    this.records.delete(oldest);
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
