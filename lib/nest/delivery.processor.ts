import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import { describeError, describeHopEvent } from '../core/errors.js';
import type { HopEventClaim, HopEventStore } from '../stores/event.store.js';
import type { HopEvent } from '../core/event.types.js';
import { HopEventsDispatcher } from './events.dispatcher.js';
import { HopDeliveryQueue } from './delivery.queue.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import { backoffMs } from '../core/checks.js';
import { HopTimeoutError, settleWithin } from '../core/settle-within.js';
import {
  HopTelemetry,
  type HopDeliveryErrorType,
  type HopDeliveryTrace,
  type HopStoreOperation,
} from '../core/telemetry.js';
import { drainFirstOnNest11 } from './destroy-order.js';

// How often a delivery waiting on another instance's claim asks the store again: soon at
// first, then less often, so that a long wait costs the store little.
const CLAIM_POLL_FIRST_MS = 50;
const CLAIM_POLL_MAX_MS = 1_000;
// Recording a handled event that the store refused is tried again in the background, after a
// pause that doubles from the first to the last, for as long as the claim's lease lasts.
const COMPLETE_RETRY_FIRST_MS = 100;
const COMPLETE_RETRY_MAX_MS = 500;

/**
 * What happens to a verified event before and after its handlers: the replay window, running
 * each event id's handlers once (through the store, in this process and across instances),
 * and letting deliveries in progress finish on shutdown while refusing new ones with 503.
 */
@Injectable()
export class HopDeliveryProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HopWebhooks');
  // How many deliveries are in progress (and handled events being recorded again in the
  // background), and who waits for them to end (shutdown).
  private inFlight = 0;
  private readonly onIdle: Array<() => void> = [];
  private draining = false;
  // Aborted when draining starts: ends the pauses between store calls at once. Each pause
  // listens to it while it lasts, and a store outage can make hundreds at once.
  private readonly closing = new AbortController();

  constructor(
    private readonly dispatcher: HopEventsDispatcher,
    private readonly queue: HopDeliveryQueue,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
    private readonly telemetry: HopTelemetry,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() modules?: ModulesContainer,
  ) {
    drainFirstOnNest11(modules, HopDeliveryProcessor);
    setMaxListeners(0, this.closing.signal);
  }

  /**
   * Drains when the HTTP adapter is told the app is closing: `app.close()` does that before
   * any `onModuleDestroy` (Nest 12; on Nest 11 see `drainFirstOnNest11`), so handlers finish
   * while the providers they use are still there.
   */
  onApplicationBootstrap(): void {
    this.warnIfLeaseCanLapse();
    // An application context without HTTP has a null adapter.
    const adapter = this.adapterHost?.httpAdapter as
      { beforeClose?: () => unknown } | null | undefined;
    if (adapter == null) return;
    const previous = adapter.beforeClose?.bind(adapter);
    adapter.beforeClose = async () => {
      await previous?.();
      await this.drain();
    };
  }

  /**
   * Resolves when the event is handled (or was already), or in queue mode queued; rejects with
   * the HTTP answer. What happened is told to the delivery's trace, when it has one.
   */
  process(event: HopEvent<string>, trace?: HopDeliveryTrace): Promise<void> {
    if (this.draining) {
      trace?.refused('shutting_down');
      throw new ServiceUnavailableException(
        'The application is shutting down; Hop will retry this delivery',
      );
    }
    if (this.config.maxEventAgeMs !== null) {
      this.assertFresh(event, this.config.maxEventAgeMs, trace);
    }
    const { queue } = this.config;
    const delivery =
      queue === null ? this.handle(event, trace) : this.queue.enqueue(event, queue, trace);
    this.inFlight += 1;
    delivery.then(this.settled, this.settled);
    return delivery;
  }

  private readonly settled = (): void => {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.onIdle.length > 0) {
      for (const resolve of this.onIdle.splice(0)) resolve();
    }
  };

  /**
   * Runs the event's handlers, once per event id if the store is on: inline for a delivery, or
   * in a queue worker for a job. Rejects as {@link process} does.
   */
  handle(event: HopEvent<string>, trace?: HopDeliveryTrace): Promise<void> {
    const { store } = this.config;
    return store === null
      ? this.dispatcher.dispatch(event, trace)
      : this.deliverOnce(event, store, trace);
  }

  private warnIfLeaseCanLapse(): void {
    const { store, handlerTimeoutMs, leaseMs, logging } = this.config;
    // A store in this process's memory is no one else's: no other instance can take its ids.
    if (logging === false || store === null || store.inProcess === true) return;
    if (handlerTimeoutMs !== null && handlerTimeoutMs < leaseMs) return;
    // The claim is not renewed: a handler outliving it lets another instance run the event.
    this.logger.warn(
      `With a shared idempotency store, set handlerTimeoutMs below idempotency.leaseSeconds (${leaseMs / 1000} s): a delivery whose handlers outlast the lease can run again on another instance`,
    );
  }

  /** Without an HTTP adapter's signal (or if it did not come), drain now. */
  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }

  /**
   * Stops taking deliveries (503) and waits for those in progress to be answered, and for a
   * handled event the store refused to get its last try at being recorded.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.closing.abort();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.onIdle.push(resolve));
  }

  /** Waits `ms`, or less if the app starts shutting down meanwhile. */
  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.closing.signal });
    } catch {
      // Aborted: the app is shutting down.
    }
  }

  /**
   * Runs the handlers if this delivery claims the event id (at once, or once another delivery
   * holding it let it go); acknowledges it if they already succeeded.
   */
  private async deliverOnce(
    event: HopEvent<string>,
    store: HopEventStore,
    trace: HopDeliveryTrace | undefined,
  ): Promise<void> {
    let claim = await this.claimId(event, store, trace);
    if (claim === 'processing') claim = await this.awaitOtherDelivery(event, store, trace);
    if (claim === 'completed') {
      trace?.duplicate();
      if (this.config.logging === 'deliveries') {
        this.logger.log(`${describeHopEvent(event)} was already handled: acknowledged`);
      }
      return;
    }
    const leaseEnds = Date.now() + this.config.leaseMs;
    try {
      await this.dispatcher.dispatch(event, trace);
    } catch (error) {
      await this.release(event, store, trace);
      throw error;
    }
    // The handlers succeeded, so the delivery is acknowledged even when the store cannot
    // record it: a 503 would make Hop run them again.
    try {
      await this.bounded(store.complete(event.id));
    } catch (error) {
      void this.completeLater(event, store, leaseEnds, error);
    }
  }

  /**
   * While another delivery (here or on another instance) holds the claim, asks the store
   * again (soon at first, then less often) until the event is completed, or the claim is this
   * delivery's: the other one released it (its handlers failed) or let it lapse (its instance
   * died, or it outlasted the lease), and this one runs the handlers. Answers 503 for Hop to
   * retry if the app starts shutting down, or the lease has passed meanwhile.
   */
  private async awaitOtherDelivery(
    event: HopEvent<string>,
    store: HopEventStore,
    trace: HopDeliveryTrace | undefined,
  ): Promise<HopEventClaim> {
    const deadline = Date.now() + this.config.leaseMs;
    for (let attempt = 0; !this.draining && Date.now() < deadline; attempt++) {
      await this.pause(backoffMs(attempt, CLAIM_POLL_FIRST_MS, CLAIM_POLL_MAX_MS));
      if (this.draining) break;
      const claim = await this.claimId(event, store, trace);
      if (claim !== 'processing') return claim;
    }
    trace?.failed('concurrent_delivery_pending');
    throw new ServiceUnavailableException(
      `${describeHopEvent(event)} is still being handled by another delivery; Hop will retry it`,
    );
  }

  /**
   * Records a handled event that the store refused (or did not answer in time) again in the
   * background, while this delivery's claim lasts, so that a duplicate waiting on the claim
   * finds the event handled once the store is back; logs it with the event id if it never is.
   * Shutdown waits for it, and cuts it short to one last try.
   */
  private async completeLater(
    event: HopEvent<string>,
    store: HopEventStore,
    leaseEnds: number,
    error: unknown,
  ): Promise<void> {
    this.telemetry.recordStoreError('complete', error instanceof HopTimeoutError);
    this.inFlight += 1;
    try {
      for (let attempt = 0; ; attempt++) {
        const pauseMs = backoffMs(attempt, COMPLETE_RETRY_FIRST_MS, COMPLETE_RETRY_MAX_MS);
        if (Date.now() + pauseMs >= leaseEnds) break;
        await this.pause(pauseMs);
        try {
          await this.bounded(store.complete(event.id));
          return;
        } catch (again) {
          this.telemetry.recordStoreError('complete', again instanceof HopTimeoutError);
          error = again;
        }
        if (this.draining) break;
      }
      this.logger.error(
        `${describeHopEvent(event)} was handled, but the event store could not record it: ${describeError(error)}. ` +
          `It was acknowledged; a redelivery of it after idempotency.leaseSeconds would run its handlers again`,
        (error as Error)?.stack,
      );
    } finally {
      this.settled();
    }
  }

  private assertFresh(
    event: HopEvent<string>,
    maxEventAgeMs: number,
    trace: HopDeliveryTrace | undefined,
  ): void {
    const { clockSkewMs } = this.config;
    const occurredAt = Date.parse(event.occurred_at);
    const refuse = (reason: HopDeliveryErrorType, message: string): never => {
      trace?.refused(reason);
      throw new UnprocessableEntityException(message);
    };
    if (Number.isNaN(occurredAt)) {
      refuse(
        'event_time_invalid',
        `${describeHopEvent(event)} has no valid occurred_at, so its age cannot be checked (maxEventAgeSeconds is set)`,
      );
    }
    const age = Date.now() - occurredAt;
    if (age > maxEventAgeMs) {
      refuse(
        'event_too_old',
        `${describeHopEvent(event)} occurred ${Math.round(age / 1000)} s ago, more than maxEventAgeSeconds (${maxEventAgeMs / 1000} s): refused as a possible replay`,
      );
    }
    if (-age > clockSkewMs) {
      refuse(
        'event_in_future',
        `${describeHopEvent(event)} occurred ${Math.round(-age / 1000)} s in the future, beyond clockSkewSeconds (${clockSkewMs / 1000} s)`,
      );
    }
  }

  /**
   * A store call that failed, or did not answer within `storeTimeoutMs`: logged and counted,
   * and answered 503 for Hop to retry.
   */
  private storeFailed(
    event: HopEvent<string>,
    operation: HopStoreOperation,
    trace: HopDeliveryTrace | undefined,
    error: unknown,
  ): ServiceUnavailableException {
    this.telemetry.recordStoreError(operation, error instanceof HopTimeoutError);
    trace?.failed('store_unavailable');
    this.logger.error(
      `Event store failed for ${describeHopEvent(event)}: ${describeError(error)}`,
      (error as Error)?.stack,
    );
    return new ServiceUnavailableException(
      'The event store is unavailable; Hop will retry this delivery',
    );
  }

  /**
   * The store's answer, or a rejection once `storeTimeoutMs` has passed without one; a store
   * in this process's memory has nothing to wait for, and its answer is taken as it is.
   */
  private bounded<T>(answer: Promise<T>): Promise<T> {
    if (this.config.store?.inProcess === true) return answer;
    const { storeTimeoutMs } = this.config;
    return settleWithin(
      answer,
      storeTimeoutMs,
      `no answer within idempotency.storeTimeoutMs (${storeTimeoutMs} ms)`,
    );
  }

  /**
   * Claims the event id for this delivery. A claim granted after the delivery gave up on the
   * store (and answered 503) is released, so that Hop's retry need not wait out the lease.
   */
  private async claimId(
    event: HopEvent<string>,
    store: HopEventStore,
    trace: HopDeliveryTrace | undefined,
  ): Promise<HopEventClaim> {
    let answer: Promise<HopEventClaim> | undefined;
    try {
      answer = store.claim(event.id, this.config.leaseMs);
      return await this.bounded(answer);
    } catch (error) {
      // A failure in time settles `answer` rejected, and this then does nothing.
      answer?.then(
        (late) => {
          if (late === 'claimed') this.releaseLateClaim(event, store);
        },
        () => undefined,
      );
      throw this.storeFailed(event, 'claim', trace, error);
    }
  }

  private releaseLateClaim(event: HopEvent<string>, store: HopEventStore): void {
    Promise.resolve()
      .then(() => store.release(event.id))
      .catch((error: unknown) =>
        this.logger.warn(
          `Could not release the late claim on ${describeHopEvent(event)}: ${describeError(error)}`,
        ),
      );
  }

  /** Drops this delivery's claim after its handlers failed, so that Hop's retry can claim it. */
  private async release(
    event: HopEvent<string>,
    store: HopEventStore,
    trace: HopDeliveryTrace | undefined,
  ): Promise<void> {
    try {
      await this.bounded(store.release(event.id));
    } catch (error) {
      throw this.storeFailed(event, 'release', trace, error);
    }
  }
}
