import { Module, type DynamicModule } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { HopWebhooksModule, type HopQueue } from 'nestjs-hop-webhooks';
import { SECRET } from '../fixture.js';
import { serveForBenchmark } from '../server-child.js';
import { BuildUpdatesCounter } from './build-updates.counter.js';
import { listenNestApp } from './listen.js';
import { withoutTelemetry } from './telemetry.js';

/** The queue of the benchmark's queue mode. */
export const BENCH_QUEUE = 'hop-bench';

/**
 * The module as an app uses it: `forRoot` with the secret and one `@OnHopEvent` handler.
 * `logging: false` keeps the startup lines out (deliveries are not logged by default anyway).
 */
@Module({ providers: [BuildUpdatesCounter] })
export class ModuleAppModule {
  /** With its telemetry or without; in queue mode, adding to `queue` (no worker here). */
  static register(telemetry: boolean, queue?: HopQueue): DynamicModule {
    const hop = HopWebhooksModule.forRoot({
      secret: SECRET,
      logging: false,
      ...(queue ? { queue: { queue, worker: false } } : {}),
    });
    return { module: ModuleAppModule, imports: [telemetry ? hop : withoutTelemetry(hop)] };
  }

  /** A worker-only app on `queue`: it runs the handler, and receives nothing. */
  static registerWorker(queue: HopQueue): DynamicModule {
    const hop = HopWebhooksModule.forRoot({
      receive: false,
      logging: false,
      queue: { queue, worker: { concurrency: 10 } },
    });
    return { module: ModuleAppModule, imports: [hop] };
  }
}

/**
 * How the module's app is run: `plain` as an app without OpenTelemetry (the API's no-ops),
 * `without-telemetry` with the module's telemetry taken out (the baseline of `plain`), `sdk`
 * with the OpenTelemetry SDK registered first, `queue` in queue mode, receiving only, on a
 * redis-server of its own.
 */
export type ModuleAppVariant = 'plain' | 'without-telemetry' | 'sdk' | 'queue';

/**
 * Serves the module's app for the benchmark (see `serveForBenchmark`). The SDK and BullMQ are
 * loaded only by the variants that use them, so that the others load what such an app loads.
 */
export function serveModuleApp(adapter: AbstractHttpAdapter, variant: ModuleAppVariant): void {
  serveForBenchmark(async (port) => {
    if (variant === 'queue') {
      const { listenQueueApp } = await import('./queue-app.js');
      return listenQueueApp(port, adapter);
    }
    if (variant === 'sdk') (await import('./otel-sdk.js')).registerOpenTelemetrySdk();
    return listenNestApp(
      port,
      ModuleAppModule.register(variant !== 'without-telemetry'),
      adapter,
      (app) => app.get(BuildUpdatesCounter).handled,
      false,
    );
  });
}
