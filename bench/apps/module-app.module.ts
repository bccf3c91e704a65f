import { Module, type DynamicModule } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { HopWebhooksModule } from 'nestjs-hop-webhooks';
import { SECRET } from '../fixture.js';
import { serveForBenchmark } from '../server-child.js';
import { BuildUpdatesCounter } from './build-updates.counter.js';
import { listenNestApp } from './listen.js';
import { registerOpenTelemetrySdk, withoutTelemetry } from './telemetry.js';

/**
 * The module as an app uses it: `forRoot` with the secret and one `@OnHopEvent` handler.
 * `logging: false` keeps the startup lines out (deliveries are not logged by default anyway).
 */
@Module({ providers: [BuildUpdatesCounter] })
export class ModuleAppModule {
  static register(telemetry: boolean): DynamicModule {
    const hop = HopWebhooksModule.forRoot({ secret: SECRET, logging: false });
    return { module: ModuleAppModule, imports: [telemetry ? hop : withoutTelemetry(hop)] };
  }
}

/**
 * How the module's app is run: `plain` as an app without OpenTelemetry (the API's no-ops),
 * `without-telemetry` with the module's telemetry taken out (the baseline of `plain`), `sdk`
 * with the OpenTelemetry SDK registered first.
 */
export type ModuleAppVariant = 'plain' | 'without-telemetry' | 'sdk';

/** Serves the module's app for the benchmark (see `serveForBenchmark`). */
export function serveModuleApp(adapter: AbstractHttpAdapter, variant: ModuleAppVariant): void {
  if (variant === 'sdk') registerOpenTelemetrySdk();
  serveForBenchmark((port) =>
    listenNestApp(
      port,
      ModuleAppModule.register(variant !== 'without-telemetry'),
      adapter,
      (app) => app.get(BuildUpdatesCounter).handled,
      false,
    ),
  );
}
