import { setTimeout as sleep } from 'node:timers/promises';
import type { HopEvent } from '../../lib/index.js';
import { signHopDelivery, type HopDelivery } from '../../lib/testing/index.js';

export interface HopSenderOptions {
  readonly secret: string;
  /** Requests in flight at most; a delivery waiting to be retried holds none. */
  readonly concurrency: number;
  readonly maxAttempts: number;
  /** Longer than the lease: a duplicate may wait that long for the other instance's outcome. */
  readonly attemptTimeoutMs: number;
}

/**
 * Delivers events as Hop does: any answer other than 2xx, a connection error or no answer in
 * time is retried after a short, growing backoff, up to `maxAttempts`; and it counts what it saw.
 */
export class HopSender {
  /** Answers by status; `no answer` for a connection error or an attempt timed out. */
  readonly answers: Record<string, number> = {};
  /** Ids of the events that some attempt had answered 2xx. */
  readonly acknowledged = new Set<string>();
  attempts = 0;
  retries = 0;
  /** Deliveries given up after the last attempt, never answered 2xx. */
  gaveUp = 0;
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: HopSenderOptions) {}

  async deliver(url: string, event: HopEvent<string>): Promise<void> {
    const { body, headers } = signHopDelivery(event, this.options.secret);
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.retries++;
        await sleep(Math.min(100 * 2 ** (attempt - 2), 1_000));
      }
      const answer = await this.attempt(url, body, headers);
      this.answers[answer] = (this.answers[answer] ?? 0) + 1;
      if (answer.startsWith('2')) {
        this.acknowledged.add(event.id);
        return;
      }
    }
    this.gaveUp++;
  }

  private async attempt(
    url: string,
    body: string,
    headers: HopDelivery['headers'],
  ): Promise<string> {
    // A slot freed while attempts wait passes straight to the first of them.
    if (this.inFlight < this.options.concurrency) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.attempts++;
    try {
      const signal = AbortSignal.timeout(this.options.attemptTimeoutMs);
      const response = await fetch(url, { method: 'POST', body, headers, signal });
      await response.arrayBuffer();
      return String(response.status);
    } catch {
      return 'no answer'; // a refused connection or a timed-out attempt: Hop retries those too
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}
