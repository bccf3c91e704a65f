// A worker-only process of queue mode, forked by test/e2e/queue-fleet.e2e.spec.ts: a Nest
// application context with HopWebhooksModule.forRoot({ queue: { queue, worker } }, receive: false)
// and one @OnHopEvent handler that counts its starts (`HINCRBY <keys>starts:<pid> <event id> 1`)
// and whose side effect, its last step, is `RPUSH <keys>runs:<event id> <pid>:<run>` in Redis.
// Plain Node (no TypeScript loader), so decorators are applied by calling them.
//
// It tells the parent (IPC) when it is ready; told `{ killWhenInProgress: n }`, it SIGKILLs
// itself as a handler starts with n in progress (the parent, busy receiving, would send its own
// SIGKILL tens of milliseconds late, when the handlers it saw may be done); it closes the app on
// SIGTERM (the worker finishes its jobs). Its settings come as JSON in HOP_QUEUE_WORKER:
// { redis: { host, port }, queueName, prefix, keys, worker, nestModules? }; `nestModules` (a
// node_modules folder, e.g. test/nest11's) is where @nestjs/*, rxjs, reflect-metadata and bullmq
// come from, as in the parent's test run.
import { register } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const settings = JSON.parse(process.env.HOP_QUEUE_WORKER ?? 'null');
if (settings === null) throw new Error('HOP_QUEUE_WORKER (JSON settings) is not set');

if (settings.nestModules) {
  // Imports of those packages from outside that folder resolve as if made from inside it (what
  // vitest.nest11.config.ts's alias does in the parent); their own imports and requires stay there.
  const from = pathToFileURL(`${settings.nestModules.replace(/[\\/]$/, '')}/`).href;
  const hooks = `
    const from = ${JSON.stringify(from)};
    const redirected = /^(@nestjs\\/[^/]+|rxjs|reflect-metadata|bullmq)(\\/.*)?$/;
    export async function resolve(specifier, context, next) {
      if (redirected.test(specifier) && !context.parentURL?.startsWith(from)) {
        return next(specifier, { ...context, parentURL: from + 'index.js' });
      }
      return next(specifier, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

await import('reflect-metadata');
const { NestFactory } = await import('@nestjs/core');
const { Inject, Injectable, Module } = await import('@nestjs/common');
const { Queue } = await import('bullmq');
const { Redis } = await import('ioredis');
const { HopWebhooksModule, OnHopEvent } = await import('nestjs-hop-webhooks');
const versionOf = async (name) =>
  (await import(`${name}/package.json`, { with: { type: 'json' } })).default.version;
const versions = { nest: await versionOf('@nestjs/core'), bullmq: await versionOf('bullmq') };

const RUNS_REDIS = Symbol('RUNS_REDIS');

/** Records each run of an event's handler in Redis, as its last step. */
class FleetHandler {
  inProgress = 0;
  runs = 0;
  killWhenInProgress = Infinity;

  constructor(redis) {
    this.redis = redis;
  }

  async onBuildUpdated(event) {
    if (++this.inProgress >= this.killWhenInProgress) process.kill(process.pid, 'SIGKILL');
    try {
      await this.redis.hincrby(`${settings.keys}starts:${process.pid}`, event.id, 1);
      // Runs are at different points when the process is killed.
      await sleep(1 + Math.random() * 19);
      await this.redis.rpush(`${settings.keys}runs:${event.id}`, `${process.pid}:${++this.runs}`);
    } finally {
      this.inProgress--;
    }
  }
}
Inject(RUNS_REDIS)(FleetHandler, undefined, 0);
Injectable()(FleetHandler);
OnHopEvent('ignite.deployment.build.updated')(
  FleetHandler.prototype,
  'onBuildUpdated',
  Object.getOwnPropertyDescriptor(FleetHandler.prototype, 'onBuildUpdated'),
);

const redis = new Redis(settings.redis);
const queue = new Queue(settings.queueName, {
  connection: settings.redis,
  prefix: settings.prefix,
});

class WorkerAppModule {}
Module({
  imports: [
    HopWebhooksModule.forRoot({
      logging: false,
      queue: { queue, worker: settings.worker },
      receive: false,
    }),
  ],
  providers: [{ provide: RUNS_REDIS, useValue: redis }, FleetHandler],
})(WorkerAppModule);

const app = await NestFactory.createApplicationContext(WorkerAppModule, {
  logger: ['error', 'warn'],
  abortOnError: false,
});
await app.init();
const handler = app.get(FleetHandler);

let closing;
const shutdown = () =>
  (closing ??= (async () => {
    await app.close();
    await queue.close();
    await redis.quit();
    process.exit(0);
  })());
process.on('SIGTERM', shutdown);
// The parent went away without stopping this process.
process.on('disconnect', shutdown);
process.on('message', (message) => {
  if (typeof message?.killWhenInProgress === 'number') {
    handler.killWhenInProgress = message.killWhenInProgress;
  }
});
process.send({ ready: process.pid, ...versions });
