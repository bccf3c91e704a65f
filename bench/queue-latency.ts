// Queue mode at a steady rate: the time from a delivery's job being added to its handler
// starting (BullMQ's `processedOn - timestamp`), with a receiver and a worker-only app on one
// redis-server. Run by run.ts in a child process of its own, or directly:
// node bench/dist/queue-latency.js
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildUpdatesCounter } from './apps/build-updates.counter.js';
import { BENCH_QUEUE, ModuleAppModule } from './apps/module-app.module.js';
import { startRedisServer } from './apps/redis.js';
import { loadConfig } from './config.js';
import { benchDeliveries } from './fixture.js';
import { reportMeasurement } from './ipc.js';
import { loadServer } from './load.js';
import { formatQueueLatencyTable } from './report.js';
import { quantile } from './stats.js';

export interface QueueLatencyResult {
  /** Deliveries per second sent. */
  readonly rate: number;
  readonly seconds: number;
  readonly answered2xx: number;
  readonly non2xx: number;
  /** Jobs whose handler ran. */
  readonly handled: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

// How long the worker may take to empty the queue once the load stops.
const DRAIN_LIMIT_MS = 60_000;

export async function runQueueLatency(rate: number, seconds: number): Promise<QueueLatencyResult> {
  const redis = await startRedisServer();
  const connection = { url: redis.url };
  const queue = new Queue(BENCH_QUEUE, { connection });
  const workerQueue = new Queue(BENCH_QUEUE, { connection });
  const options = { logger: ['error' as const], abortOnError: false };
  const receiver = await NestFactory.create(
    ModuleAppModule.register(true, queue),
    new FastifyAdapter(),
    options,
  );
  const worker = await NestFactory.createApplicationContext(
    ModuleAppModule.registerWorker(workerQueue),
    options,
  );
  try {
    await worker.init();
    await receiver.listen(0, '127.0.0.1');
    const result = await loadServer(await receiver.getUrl(), benchDeliveries(), {
      connections: 10,
      rate,
      warmupSeconds: 0,
      durationSeconds: seconds,
    });
    const deadline = Date.now() + DRAIN_LIMIT_MS;
    while (Object.values(await queue.getJobCounts('wait', 'active', 'delayed')).some(Boolean)) {
      if (Date.now() > deadline) throw new Error('the worker did not empty the queue in time');
      await sleep(100);
    }
    const jobs = await queue.getJobs(['completed']);
    const waits = jobs.map((job) => (job.processedOn ?? Number.NaN) - job.timestamp);
    return {
      rate,
      seconds,
      answered2xx: result['2xx'],
      non2xx: result.non2xx,
      handled: worker.get(BuildUpdatesCounter, { strict: false }).handled,
      p50Ms: quantile(waits, 0.5),
      p99Ms: quantile(waits, 0.99),
      maxMs: Math.max(...waits),
    };
  } finally {
    await receiver.close();
    await worker.close();
    await Promise.all([queue.close(), workerQueue.close()]);
    await redis.stop();
  }
}

const config = loadConfig();
await reportMeasurement(
  () => runQueueLatency(config.queueRate, config.durationSeconds),
  formatQueueLatencyTable,
);
