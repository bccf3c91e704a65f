import { InMemoryHopEventStore, type HopEventClaim } from '../../lib/index.js';

/** The in-memory store, counting the claims asked of it: how a test knows a delivery waits. */
export class ClaimCountingStore extends InMemoryHopEventStore {
  claims = 0;

  override claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    this.claims += 1;
    return super.claim(eventId, leaseMs);
  }
}
