import type { HopEventClaim, HopEventStore } from '../../lib/index.js';

/** A store of an app's own with no `ping`: a health check has nothing to ask it. */
export class PinglessStore implements HopEventStore {
  claim(): Promise<HopEventClaim> {
    return Promise.resolve('claimed');
  }
  complete(): Promise<void> {
    return Promise.resolve();
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}
