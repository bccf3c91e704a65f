import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { HopConfigurationError } from '../core/errors.js';
import { HOP_WEBHOOKS_CONFIG } from '../nest/constants.js';
import type { ResolvedHopWebhooksConfig } from '../nest/webhooks.config.js';
import { probeHopEventStore, type HopEventStoreProbe } from '../stores/event.store.js';

/** What the indicator reports beside its status. */
export type HopWebhooksHealthDetails = Omit<HopEventStoreProbe, 'status'> & {
  /** `unchecked` when the store has no `ping`: reported up, as nothing says otherwise. */
  readonly store_status: HopEventStoreProbe['status'];
};

// Which probe a report shows when there are several: the one that matters most.
const SEVERITY: Readonly<Record<HopEventStoreProbe['status'], number>> = {
  down: 2,
  unchecked: 1,
  up: 0,
};

/**
 * A `@nestjs/terminus` health indicator: up while the idempotency store answers (Redis: one
 * `PING`, bounded by `idempotency.storeTimeoutMs`), down when it does not, since deliveries are
 * then answered 503. With several registrations of the module, every store is asked, and the
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
    const probes = await Promise.all(
      [...stores].map(([store, timeoutMs]) => probeHopEventStore(store, timeoutMs)),
    );
    const { status, ...probe } = probes.reduce((worst, next) =>
      SEVERITY[next.status] > SEVERITY[worst.status] ? next : worst,
    );
    const details: HopWebhooksHealthDetails = { ...probe, store_status: status };
    return status === 'down' ? indicator.down(details) : indicator.up(details);
  }
}
