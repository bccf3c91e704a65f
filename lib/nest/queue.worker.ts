import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { Job, Worker } from 'bullmq';
import { describeError, describeHopEvent, printable } from '../core/errors.js';
import { HopTelemetry } from '../core/telemetry.js';
import type { HopEvent } from '../core/event.types.js';
import { checkHopEnvelope } from '../core/event.parser.js';
import { isJsonObject } from '../core/checks.js';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import { HopDeliveryProcessor } from './delivery.processor.js';
import { destroyFirst } from './destroy-order.js';
import { HopHandlersFailedException, type HopHandlerError } from './events.dispatcher.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import type { HopQueueJobData, HopQueueJobFailure } from './webhooks-options.interface.js';

/**
 * Queue mode's working side: a BullMQ worker on the app's queue that runs each job's
 * `@OnHopEvent` handlers (once per event id through the idempotency store, as inline). A job
 * whose handlers fail is retried with backoff, each failure recorded in its data and logged;
 * one that exhausts its attempts stays in BullMQ's failed set. On shutdown the worker
 * finishes its jobs before the app's providers are destroyed; a worker that dies instead
 * leaves its jobs to be taken up again once their lock lapses.
 */
@Injectable()
export class HopQueueWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HopWebhooks');
  private worker: Worker<HopQueueJobData> | undefined;
  // The worker's own copy of the queue's client, if the queue was given one.
  private client: RedisClient | undefined;

  constructor(
    private readonly processor: HopDeliveryProcessor,
    private readonly telemetry: HopTelemetry,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
    @Optional() modules?: ModulesContainer,
  ) {
    if (config.queue?.worker) destroyFirst(modules, HopQueueWorker);
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.config.queue;
    if (settings === null || settings.worker === null) return;
    const { queue, worker } = settings;
    // An optional peer, loaded only in queue mode.
    const { Worker } = await import('bullmq');
    const { connection } = queue.opts;
    // BullMQ's workers need a client that retries commands for as long as Redis is away
    // (`maxRetriesPerRequest: null`), which a client made for the queue need not be: the
    // worker gets a copy of it set so.
    this.client = isRedisClient(connection)
      ? connection.duplicate({ maxRetriesPerRequest: null })
      : undefined;
    this.worker = new Worker<HopQueueJobData>(queue.name, (job) => this.run(job), {
      connection: (this.client ?? connection) as never,
      prefix: queue.opts.prefix,
      concurrency: worker.concurrency,
      lockDuration: worker.lockDurationMs,
      stalledInterval: worker.stalledIntervalMs,
      maxStalledCount: worker.maxStalledCount,
    });
    this.worker.on('error', (error) =>
      this.logger.error(`Queue worker on ${queue.name}: ${describeError(error)}`, error.stack),
    );
    if (this.config.logging !== false) {
      this.logger.log(
        `Running queued Hop events from ${queue.name} (concurrency ${worker.concurrency})`,
      );
    }
  }

  /** Stops taking jobs, and waits for those running to finish. */
  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    this.client?.disconnect();
  }

  /** Runs one job's handlers; on failure, records it in the job and rejects (BullMQ retries). */
  private async run(job: Job<HopQueueJobData>): Promise<void> {
    const { event: queued, traceContext } = job.data ?? {};
    let event: HopEvent<string>;
    try {
      // Checked as at receipt: a job some other producer added to the queue runs no handler.
      if (!isJsonObject(queued)) throw new Error('its data has no `event` object');
      event = checkHopEnvelope(queued);
    } catch (error) {
      const message = `Job ${printable(job.id ?? '')} in ${job.queueName} holds no Hop event (the module's jobs have data { event: { id, event, data } }; ${describeError(error)}): failed without running any handler`;
      this.logger.error(message);
      throw new Error(message);
    }
    try {
      await this.telemetry.runInCarrier(traceContext, () => this.processor.handle(event));
    } catch (error) {
      const failure: HopQueueJobFailure = {
        attempt: job.attemptsMade + 1,
        failed: failuresOf(error),
        at: new Date().toISOString(),
      };
      const attempts = job.opts.attempts ?? 1;
      const what = failure.failed.map(({ handler }) => handler).join(', ');
      const next =
        failure.attempt < attempts
          ? 'BullMQ retries it'
          : `it stays in the failed set of queue ${job.queueName}`;
      this.logger.error(
        `${describeHopEvent(event)}, attempt ${failure.attempt} of ${attempts}: ${what} failed; ${next}`,
      );
      try {
        await job.updateData({ ...job.data, failures: [...(job.data.failures ?? []), failure] });
      } catch (recordError) {
        this.logger.warn(
          `Could not record the failure in the job of ${describeHopEvent(event)}: ${describeError(recordError)}`,
        );
      }
      throw new Error(`${what} failed: ${failure.failed.map((f) => f.error).join('; ')}`);
    }
  }
}

/** The part of an ioredis client (`Redis` or `Cluster`) the worker uses. */
interface RedisClient {
  duplicate(override: { maxRetriesPerRequest: null }): RedisClient;
  disconnect(): void;
}

function isRedisClient(connection: unknown): connection is RedisClient {
  const client = connection as Partial<RedisClient> | null | undefined;
  return typeof client?.duplicate === 'function' && typeof client.disconnect === 'function';
}

/** What failed, from what handling the event threw. */
function failuresOf(error: unknown): readonly HopHandlerError[] {
  if (error instanceof HopHandlersFailedException) return error.failures;
  // The processor's other failures are the idempotency store's (or a concurrent delivery's).
  return [{ handler: 'idempotency store', error: describeError(error) }];
}
