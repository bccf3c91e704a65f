import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  OnModuleDestroy,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import type { HopEvent } from './hop-event.types.js';
import { HopEventsDispatcher } from './hop-events.dispatcher.js';
import type { ResolvedHopWebhooksConfig } from './hop-webhooks.config.js';

// How often a delivery waiting on another instance's claim asks the store again.
const CLAIM_POLL_MS = 50;

/**
 * What happens to a verified event before and after its handlers: the replay window, running
 * each event id's handlers once (in this process and, through the store, across instances),
 * and letting deliveries in progress finish on shutdown while refusing new ones with 503.
 */
@Injectable()
export class HopDeliveryProcessor implements OnModuleDestroy {
  private readonly logger = new Logger('HopWebhooks');
  // Deliveries whose handlers are running, by event id: a duplicate shares the outcome.
  private readonly running = new Map<string, Promise<void>>();
  private readonly inProgress = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly dispatcher: HopEventsDispatcher,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
  ) {}

  /** Resolves when the event is handled (or was already); rejects with the HTTP answer. */
  process(event: HopEvent<string>): Promise<void> {
    if (this.draining) {
      throw new ServiceUnavailableException(
        'The application is shutting down; Hop will retry this delivery',
      );
    }
    this.assertFresh(event);
    if (this.config.store === null) return this.track(this.dispatcher.dispatch(event));
    const running = this.running.get(event.id);
    if (running !== undefined) return running;
    const delivery = this.deliverOnce(event).finally(() => this.running.delete(event.id));
    this.running.set(event.id, delivery);
    return this.track(delivery);
  }

  /** Stops taking deliveries and waits for those in progress, before providers go away. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    await Promise.allSettled(this.inProgress);
  }

  private async deliverOnce(event: HopEvent<string>): Promise<void> {
    const store = this.config.store!;
    const claim = await this.claim(event);
    if (claim === 'completed') {
      if (this.config.logging === 'deliveries') {
        this.logger.log(`Hop event ${event.id} (${event.event}) was already handled: acknowledged`);
      }
      return;
    }
    try {
      await this.dispatcher.dispatch(event);
    } catch (error) {
      await this.storeCall(() => store.release(event.id), event);
      throw error;
    }
    await this.storeCall(() => store.complete(event.id), event);
  }

  /** Claims the event, or waits while another instance runs its handlers. */
  private async claim(event: HopEvent<string>): Promise<'claimed' | 'completed'> {
    const store = this.config.store!;
    const deadline = Date.now() + this.config.leaseMs;
    let waited = false;
    for (;;) {
      const claim = await this.storeCall(() => store.claim(event.id, this.config.leaseMs), event);
      if (claim === 'completed') return claim;
      if (claim === 'claimed') {
        if (!waited) return claim;
        // The other delivery gave up its claim: its handlers failed. Answer as it did.
        await this.storeCall(() => store.release(event.id), event);
        throw new InternalServerErrorException(
          `A concurrent delivery of Hop event ${event.id} failed; Hop will retry it`,
        );
      }
      if (Date.now() >= deadline) {
        throw new ServiceUnavailableException(
          `Hop event ${event.id} is still being handled by another delivery; Hop will retry it`,
        );
      }
      waited = true;
      await sleep(CLAIM_POLL_MS);
    }
  }

  private assertFresh(event: HopEvent<string>): void {
    const { maxEventAgeMs, clockSkewMs } = this.config;
    if (maxEventAgeMs === null) return;
    const occurredAt = Date.parse(event.occurred_at);
    if (Number.isNaN(occurredAt)) {
      throw new UnprocessableEntityException(
        `Hop event ${event.id} has no valid occurred_at, so its age cannot be checked (maxEventAgeSeconds is set)`,
      );
    }
    const age = Date.now() - occurredAt;
    if (age > maxEventAgeMs) {
      throw new UnprocessableEntityException(
        `Hop event ${event.id} occurred ${Math.round(age / 1000)} s ago, more than maxEventAgeSeconds (${maxEventAgeMs / 1000} s): refused as a possible replay`,
      );
    }
    if (-age > clockSkewMs) {
      throw new UnprocessableEntityException(
        `Hop event ${event.id} occurred ${Math.round(-age / 1000)} s in the future, beyond clockSkewSeconds (${clockSkewMs / 1000} s)`,
      );
    }
  }

  private async storeCall<T>(call: () => Promise<T>, event: HopEvent<string>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.logger.error(
        `Event store failed for Hop event ${event.id} (${event.event}): ${(error as Error)?.message ?? String(error)}`,
        (error as Error)?.stack,
      );
      throw new ServiceUnavailableException(
        'The event store is unavailable; Hop will retry this delivery',
      );
    }
  }

  private track<T>(delivery: Promise<T>): Promise<T> {
    this.inProgress.add(delivery);
    void delivery.then(
      () => this.inProgress.delete(delivery),
      () => this.inProgress.delete(delivery),
    );
    return delivery;
  }
}
