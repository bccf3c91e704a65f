import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { describeError, HopConfigurationError } from '../core/errors.js';
import { settleWithin } from '../core/settle-within.js';
import { HOP_WEBHOOKS_CONFIG } from '../nest/constants.js';
import type { ResolvedHopWebhooksConfig } from '../nest/webhooks.config.js';
import type { HopQueue } from '../nest/webhooks-options.interface.js';
import {
  hopEventStoreName,
  probeHopEventStore,
  type HopEventStoreProbe,
} from '../stores/event.store.js';

/**
 * What the indicator learned of a store: a probe's answer, or `unused` for a store this process
 * never calls (its registration only queues deliveries), which is not asked.
 */
type StoreReport = Omit<HopEventStoreProbe, 'status'> & {
  readonly status: HopEventStoreProbe['status'] | 'unused';
};

/** What the indicator reports beside its status. */
export type HopWebhooksHealthDetails = Omit<StoreReport, 'status'> & {
  /**
   * `unchecked` when the store has no `ping`: reported up, as nothing says otherwise. `unused`
   * in queue mode with `queue.worker: false`: this process only queues deliveries, and the
   * workers elsewhere call the store, so it is not asked.
   */
  readonly store_status: StoreReport['status'];
  /** In queue mode: the queue's name, and whether its Redis answered. */
  readonly queue?: string;
  readonly queue_status?: 'up' | 'down';
  readonly queue_error?: string;
};

// Which probe a report shows when there are several: the one that matters most.
const SEVERITY: Readonly<Record<StoreReport['status'], number>> = {
  down: 3,
  unchecked: 2,
  up: 1,
  unused: 0,
};

/**
 * A `@nestjs/terminus` health indicator: up while the idempotency store answers (Redis: one
 * `PING`, bounded by `idempotency.storeTimeoutMs`) and, in queue mode, the queue's Redis does
 * (bounded by `queue.addTimeoutMs`); down when one does not, since deliveries are then answered
 * 503. A store the process never calls (queue mode with `queue.worker: false`) is not asked.
 * With several registrations of the module, every store in use and every queue is asked, and
 * the report names the one that is down. Add it to the health module's providers, beside
 * `TerminusModule`:
 *
 * @example
 * ```ts
 * @Get() @HealthCheck()
 * check() {
 *   return this.health.check([() => this.hop.isHealthy('hop-webhooks')]);
 * }
 * ```
 */
@Injectable()
export class HopWebhooksHealthIndicator implements OnModuleInit {
  private configs: readonly ResolvedHopWebhooksConfig[] = [];

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Finds every registration of the module in the app (whichever module imported it). */
  onModuleInit(): void {
    try {
      this.configs = this.moduleRef.get<ResolvedHopWebhooksConfig>(HOP_WEBHOOKS_CONFIG, {
        strict: false,
        each: true,
      });
    } catch {
      // Nest throws when nothing provides the token: said below.
    }
    if (this.configs.length === 0) {
      throw new HopConfigurationError(
        'HopWebhooksHealthIndicator reports on HopWebhooksModule, which the app does not import: import HopWebhooksModule.forRoot(...) or drop the indicator',
      );
    }
  }

  async isHealthy<const Key extends string = 'hop-webhooks'>(
    key: Key = 'hop-webhooks' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const stores = new Map(
      this.configs.filter(callsStore).map((config) => [config.store, config.storeTimeoutMs]),
    );
    const unused = new Set(
      this.configs.map(({ store }) => store).filter((store) => !stores.has(store)),
    );
    const queues = new Map(
      this.configs.flatMap(({ queue }) => (queue ? [[queue.queue, queue.addTimeoutMs]] : [])),
    );
    const [storeProbes, queueProbes] = await Promise.all([
      Promise.all([...stores].map(([store, timeoutMs]) => probeHopEventStore(store, timeoutMs))),
      Promise.all([...queues].map(([queue, timeoutMs]) => probeQueue(queue, timeoutMs))),
    ]);
    const probes: StoreReport[] = [
      ...storeProbes,
      ...[...unused].map((store) => ({
        store: hopEventStoreName(store),
        status: 'unused' as const,
      })),
    ];
    const { status, ...probe } = probes.reduce((worst, next) =>
      SEVERITY[next.status] > SEVERITY[worst.status] ? next : worst,
    );
    const queueProbe = queueProbes.find((next) => next.queue_status === 'down') ?? queueProbes[0];
    const details: HopWebhooksHealthDetails = { ...probe, store_status: status, ...queueProbe };
    const down = status === 'down' || queueProbe?.queue_status === 'down';
    return down ? indicator.down(details) : indicator.up(details);
  }
}

/**
 * Whether this process calls the registration's store: a delivery's handlers run here, inline or
 * in this process's queue worker. A receiver with `queue.worker: false` only queues them.
 */
function callsStore({ queue }: ResolvedHopWebhooksConfig): boolean {
  return queue === null || queue.worker !== null;
}

/** Whether the queue's Redis answers one request within `timeoutMs`. */
async function probeQueue(
  queue: HopQueue,
  timeoutMs: number,
): Promise<Pick<HopWebhooksHealthDetails, 'queue' | 'queue_status' | 'queue_error'>> {
  try {
    await settleWithin(
      queue.getJobCounts('waiting'),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
    return { queue: queue.name, queue_status: 'up' };
  } catch (error) {
    return { queue: queue.name, queue_status: 'down', queue_error: describeError(error) };
  }
}
