// Loaded only by the servers that measure queue mode: the others load no BullMQ, as an app
// that does not use queue mode loads none.
import type { AbstractHttpAdapter } from '@nestjs/core';
import { Queue } from 'bullmq';
import type { RunningServer } from '../server-child.js';
import { listenNestApp } from './listen.js';
import { BENCH_QUEUE, ModuleAppModule } from './module-app.module.js';
import { startRedisServer } from './redis.js';

/** A BullMQ queue that counts the jobs it was given: the receiver's deliveries accepted. */
class CountingQueue extends Queue {
  added = 0;

  override async add(...args: Parameters<Queue['add']>): ReturnType<Queue['add']> {
    const job = await super.add(...args);
    this.added += 1;
    return job;
  }
}

/** The module's app in queue mode, receiving only, adding to a redis-server of its own. */
export async function listenQueueApp(
  port: number,
  adapter: AbstractHttpAdapter,
): Promise<RunningServer> {
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
