import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { HOP_WEBHOOKS_CONFIG } from '../nest/constants.js';
import type { ResolvedHopWebhooksConfig } from '../nest/webhooks.config.js';
import { probeHopEventStore, type HopEventStoreProbe } from '../stores/event.store.js';

/** What the indicator reports beside its status. */
export type HopWebhooksHealthDetails = Omit<HopEventStoreProbe, 'status'> & {
  /** `unchecked` when the store has no `ping`: reported up, as nothing says otherwise. */
  readonly store_status: HopEventStoreProbe['status'];
};

/**
 * A `@nestjs/terminus` health indicator: up while the idempotency store answers (Redis: one
 * `PING`, bounded by `idempotency.storeTimeoutMs`), down when it does not, since deliveries are
 * then answered 503. Add it to the health module's providers, beside `TerminusModule`:
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
export class HopWebhooksHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async isHealthy<const Key extends string = 'hop-webhooks'>(
    key: Key = 'hop-webhooks' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    // Found in whichever module imported HopWebhooksModule, as `strict: false` looks app-wide.
    const config = this.moduleRef.get<ResolvedHopWebhooksConfig>(HOP_WEBHOOKS_CONFIG, {
      strict: false,
    });
    const { status, ...probe } = await probeHopEventStore(config.store, config.storeTimeoutMs);
    const details: HopWebhooksHealthDetails = { ...probe, store_status: status };
    return status === 'down' ? indicator.down(details) : indicator.up(details);
  }
}
