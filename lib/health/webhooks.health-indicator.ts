import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { describeError, HopConfigurationError } from '../core/errors.js';
import { settleWithin } from '../core/settle-within.js';
import { HOP_WEBHOOKS_CONFIG } from '../nest/constants.js';
import type { ResolvedHopWebhooksConfig } from '../nest/webhooks.config.js';
import type { HopQueue } from '../nest/webhooks-options.interface.js';
import { probeHopEventStore, type HopEventStoreProbe } from '../stores/event.store.js';

/** What the indicator reports beside its status. */
export type HopWebhooksHealthDetails = Omit<HopEventStoreProbe, 'status'> & {
  /** `unchecked` when the store has no `ping`: reported up, as nothing says otherwise. */
  readonly store_status: HopEventStoreProbe['status'];
  /** In queue mode: the queue's name, and whether its Redis answered. */
  readonly queue?: string;
  readonly queue_status?: 'up' | 'down';
  readonly queue_error?: string;
};

// Which probe a report shows when there are several: the one that matters most.
const SEVERITY: Readonly<Record<HopEventStoreProbe['status'], number>> = {
  down: 2,
  unchecked: 1,
  up: 0,
};

/**
 * A `@nestjs/terminus` health indicator: up while the idempotency store answers (Redis: one
 * `PING`, bounded by `idempotency.storeTimeoutMs`) and, in queue mode, the queue's Redis does
 * (bounded by `queue.addTimeoutMs`); down when one does not, since deliveries are then answered
 * 503. With several registrations of the module, every store and queue is asked, and the
 * report names the one that is down. Add it to the health module's providers, beside
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
    const stores = new Map(this.configs.map((config) => [config.store, config.storeTimeoutMs]));
    const queues = new Map(
      this.configs.flatMap(({ queue }) => (queue ? [[queue.queue, queue.addTimeoutMs]] : [])),
    );
    const [probes, queueProbes] = await Promise.all([
      Promise.all([...stores].map(([store, timeoutMs]) => probeHopEventStore(store, timeoutMs))),
      Promise.all([...queues].map(([queue, timeoutMs]) => probeQueue(queue, timeoutMs))),
    ]);
    const { status, ...probe } = probes.reduce((worst, next) =>
      SEVERITY[next.status] > SEVERITY[worst.status] ? next : worst,
    );
    const queueProbe = queueProbes.find((next) => next.queue_status === 'down') ?? queueProbes[0];
    const details: HopWebhooksHealthDetails = { ...probe, store_status: status, ...queueProbe };
    const down = status === 'down' || queueProbe?.queue_status === 'down';
    return down ? indicator.down(details) : indicator.up(details);
  }
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
