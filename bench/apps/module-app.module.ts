import { Module, type DynamicModule } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Queue } from 'bullmq';
import { HopWebhooksModule, type HopQueue } from 'nestjs-hop-webhooks';
import { SECRET } from '../fixture.js';
import { serveForBenchmark, type RunningServer } from '../server-child.js';
import { BuildUpdatesCounter } from './build-updates.counter.js';
import { listenNestApp } from './listen.js';
import { startRedisServer } from './redis.js';
import { registerOpenTelemetrySdk, withoutTelemetry } from './telemetry.js';

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

/** A BullMQ queue that counts the jobs it was given: the receiver's deliveries accepted. */
class CountingQueue extends Queue {
  added = 0;

  override async add(...args: Parameters<Queue['add']>): ReturnType<Queue['add']> {
    const job = await super.add(...args);
    this.added += 1;
    return job;
  }
}

/**
 * How the module's app is run: `plain` as an app without OpenTelemetry (the API's no-ops),
 * `without-telemetry` with the module's telemetry taken out (the baseline of `plain`), `sdk`
 * with the OpenTelemetry SDK registered first, `queue` in queue mode, receiving only, on a
 * redis-server of its own.
 */
export type ModuleAppVariant = 'plain' | 'without-telemetry' | 'sdk' | 'queue';

/** Serves the module's app for the benchmark (see `serveForBenchmark`). */
export function serveModuleApp(adapter: AbstractHttpAdapter, variant: ModuleAppVariant): void {
  if (variant === 'sdk') registerOpenTelemetrySdk();
  serveForBenchmark((port) =>
    variant === 'queue'
      ? listenQueueApp(port, adapter)
      : listenNestApp(
          port,
          ModuleAppModule.register(variant !== 'without-telemetry'),
          adapter,
          (app) => app.get(BuildUpdatesCounter).handled,
          false,
        ),
  );
}

async function listenQueueApp(port: number, adapter: AbstractHttpAdapter): Promise<RunningServer> {
  const redis = await startRedisServer();
  const queue = new CountingQueue(BENCH_QUEUE, { connection: { url: redis.url } });
  const server = await listenNestApp(
    port,
    ModuleAppModule.register(true, queue),
    adapter,
    () => queue.added,
    false,
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await queue.close();
      await redis.stop();
    },
  };
}
