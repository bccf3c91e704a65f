// The health indicator as an app adds it: TerminusModule, its own HealthController, and
// HopWebhooksHealthIndicator in the providers. GET /health over real HTTP reports the
// idempotency store, and a real redis-server taken down turns it into a 503 that answers in
// `idempotency.storeTimeoutMs`, however long the Redis client would wait.
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { once } from 'node:events';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { HopWebhooksHealthIndicator } from '../../lib/health/index.js';
import {
  HopWebhooksModule,
  RedisHopEventStore,
  type HopEventStore,
  type HopWebhooksModuleOptions,
  type HopQueueWorkerOptions,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent } from '../../lib/testing/index.js';
import {
  startRedis,
  startRestartableRedis,
  type RestartableRedis,
  type RunningRedis,
} from '../src/redis-server.js';
import {
  ADAPTERS,
  startTestApp,
  startupError,
  type AdapterKind,
  type TestApp,
} from '../src/test-app.js';
import { PinglessStore } from '../src/pingless-store.js';

const SECRET = 'whsec_health-spec-secret-0123456789';
const KEY = 'hop-webhooks';
const STORE_TIMEOUT_MS = 300;
// Redis reconnects on its own schedule once it is back: poll for the outcome.
const POLL = { timeout: 15_000, interval: 50 };

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly hop: HopWebhooksHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.hop.isHealthy(KEY)]);
  }
}

/** An app's health module: it does not import HopWebhooksModule, nor is that global. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [HopWebhooksHealthIndicator],
})
class HealthModule {}

const BESIDE = 'in the module that imports HopWebhooksModule';
const OWN_MODULE = 'in a health module of its own, beside the webhooks module';

/** An app's feature module, the one that imports HopWebhooksModule. */
@Module({})
class WebhooksModule {}

/** Where the app puts the health check. */
const SHAPES = {
  [BESIDE]: (options: HopWebhooksModuleOptions) => ({
    imports: [HopWebhooksModule.forRoot(options), TerminusModule],
    controllers: [HealthController],
    providers: [HopWebhooksHealthIndicator],
  }),
  [OWN_MODULE]: (options: HopWebhooksModuleOptions) => ({
    imports: [
      {
        module: WebhooksModule,
        imports: [HopWebhooksModule.forRoot(options)],
      } satisfies DynamicModule,
      HealthModule,
    ],
  }),
};
type Shape = keyof typeof SHAPES;

function startHealthApp(
  adapter: AdapterKind,
  shape: Shape,
  options: Partial<HopWebhooksModuleOptions> = {},
): Promise<TestApp> {
  return startTestApp(adapter, SHAPES[shape]({ secret: SECRET, logging: false, ...options }));
}

async function getHealth(app: TestApp): Promise<{ status: number; body: HealthCheckResult }> {
  const response = await fetch(app.url('/health'));
  return { status: response.status, body: (await response.json()) as HealthCheckResult };
}

describe.each(
  ADAPTERS.flatMap((adapter) =>
    Object.keys(SHAPES).map((shape) => [adapter, shape as Shape] as const),
  ),
)('GET /health on %s, the check %s', (adapter, shape) => {
  it('is up with the default in-memory store', async () => {
    const app = await startHealthApp(adapter, shape);
    try {
      expect(await getHealth(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: {
            [KEY]: { status: 'up', store: 'InMemoryHopEventStore', store_status: 'up' },
          },
          error: {},
        }),
      });
    } finally {
      await app.close();
    }
  });

  it('is up with store none when idempotency is off', async () => {
    const app = await startHealthApp(adapter, shape, { idempotency: false });
    try {
      expect(await getHealth(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: { [KEY]: { status: 'up', store: 'none', store_status: 'up' } },
        }),
      });
    } finally {
      await app.close();
    }
  });

  it('is up, store_status unchecked, with a store of its own that has no ping', async () => {
    const app = await startHealthApp(adapter, shape, {
      idempotency: { store: new PinglessStore() },
    });
    try {
      expect(await getHealth(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: { [KEY]: { status: 'up', store: 'PinglessStore', store_status: 'unchecked' } },
        }),
      });
    } finally {
      await app.close();
    }
  });
});

const README_CLIENT = 'README defaults client (new Redis(url))';
const CLIENT_OPTIONS: Record<string, RedisOptions> = {
  'fail-fast client (maxRetriesPerRequest: 1)': { maxRetriesPerRequest: 1 },
  // Its commands wait in the offline queue for as long as Redis is down.
  [README_CLIENT]: {},
};

describe.each(ADAPTERS)('GET /health on %s with RedisHopEventStore', (adapter) => {
  it.for(Object.keys(CLIENT_OPTIONS))(
    'is up, down (503) once redis-server is killed, and up again once it is back, with a %s',
    { timeout: 60_000 },
    async (clientKind, context) => {
      const redis = await startRestartableRedis();
      if ('unavailable' in redis) return context.skip(redis.unavailable);
      const client = new Redis(redis.url, CLIENT_OPTIONS[clientKind]!);
      // Without a listener, ioredis prints every connection error of the outage.
      client.on('error', () => {});
      let app: TestApp | undefined;
      try {
        if (client.status !== 'ready') await once(client, 'ready');
        app = await startHealthApp(adapter, OWN_MODULE, {
          idempotency: { store: new RedisHopEventStore(client), storeTimeoutMs: STORE_TIMEOUT_MS },
        });
        const up = {
          status: 200,
          body: expect.objectContaining({
            status: 'ok',
            info: { [KEY]: { status: 'up', store: 'RedisHopEventStore', store_status: 'up' } },
            error: {},
          }),
        };
        expect(await getHealth(app)).toEqual(up);

        await redis.kill('SIGKILL');
        // The client's own PING, sent before the health check: what the indicator would wait for.
        let direct: 'pending' | 'answered' | 'failed' = 'pending';
        const pinging = client.ping().then(
          () => (direct = 'answered'),
          () => (direct = 'failed'),
        );
        const down = await getHealth(app);
        expect(down).toEqual({
          status: 503,
          body: expect.objectContaining({
            status: 'error',
            info: {},
            error: {
              [KEY]: {
                status: 'down',
                store: 'RedisHopEventStore',
                store_status: 'down',
                error: expect.any(String),
              },
            },
          }),
        });
        const error: string = down.body.error?.[KEY]?.error;
        expect(error.length).toBeGreaterThan(0);
        if (clientKind === README_CLIENT) {
          // The client would still be waiting: the indicator's bound answered instead.
          expect(error).toBe(`no answer within ${STORE_TIMEOUT_MS} ms`);
          expect(direct).toBe('pending');
        }

        await redis.restart();
        await vi.waitFor(async () => expect(await getHealth(app!)).toEqual(up), POLL);
        await pinging;
        if (clientKind === README_CLIENT) {
          // Its queued PING went through once Redis was back.
          expect(direct).toBe('answered');
        }
      } finally {
        await app?.close();
        client.disconnect();
        await redis.stop();
      }
    },
  );
});

/** A store of the app's own whose `ping` fails: Redis refusing connections, say. */
class UnreachableStore extends PinglessStore {
  ping(): Promise<void> {
    return Promise.reject(new Error('connect ECONNREFUSED'));
  }
}

describe.each(ADAPTERS)('GET /health on %s with several registrations', (adapter) => {
  it('asks every store and reports the one that is down (503)', async () => {
    const app = await startTestApp(adapter, {
      imports: [
        HopWebhooksModule.forRoot({ secret: SECRET, logging: false }),
        HopWebhooksModule.forRoot({
          secret: SECRET,
          logging: false,
          path: 'hop/other-project',
          idempotency: { store: new UnreachableStore() },
        }),
        HealthModule,
      ],
    });
    try {
      expect(await getHealth(app)).toEqual({
        status: 503,
        body: expect.objectContaining({
          error: {
            [KEY]: {
              status: 'down',
              store: 'UnreachableStore',
              store_status: 'down',
              error: 'connect ECONNREFUSED',
            },
          },
        }),
      });
    } finally {
      await app.close();
    }
  });

  it('names a store written as an object literal "custom store"', async () => {
    const store: HopEventStore = {
      claim: () => Promise.resolve('claimed'),
      complete: () => Promise.resolve(),
      release: () => Promise.resolve(),
      ping: () => Promise.resolve(),
    };
    const app = await startHealthApp(adapter, OWN_MODULE, { idempotency: { store } });
    try {
      expect((await getHealth(app)).body.info).toEqual({
        [KEY]: { status: 'up', store: 'custom store', store_status: 'up' },
      });
    } finally {
      await app.close();
    }
  });
});

describe('HopWebhooksHealthIndicator without HopWebhooksModule', () => {
  it.each(ADAPTERS)('stops the app at startup, saying what to import (%s)', async (adapter) => {
    const error = await startupError({ imports: [HealthModule] }, adapter);
    expect(error.name).toBe('HopConfigurationError');
    expect(error.message).toContain('import HopWebhooksModule.forRoot(...)');
  });
});

/**
 * A redis-server to keep and one to kill, both stopped after the test; skips the test where
 * there is no redis-server.
 */
async function startRedisPair(context: TestContext): Promise<[RunningRedis, RestartableRedis]> {
  const [kept, killable] = await Promise.all([startRedis(), startRestartableRedis()]);
  context.onTestFinished(async () => {
    if (!('unavailable' in kept)) await kept.stop();
    if (!('unavailable' in killable)) await killable.stop();
  });
  if ('unavailable' in kept) return context.skip(kept.unavailable);
  if ('unavailable' in killable) return context.skip(killable.unavailable);
  return [kept, killable];
}

/** A BullMQ queue on that redis-server. */
function queueOn(redis: RunningRedis, name: string): Queue {
  const { hostname, port } = new URL(redis.url);
  return new Queue(name, { connection: { host: hostname, port: Number(port) } });
}

describe.each(ADAPTERS)('GET /health on %s in queue mode', (adapter) => {
  it('reports the queue: up, down (503) once its redis-server is killed, up once it is back', async (context) => {
    const redis = await startRestartableRedis();
    if ('unavailable' in redis) return context.skip(redis.unavailable);
    const queue = queueOn(redis, `hop-health-${adapter}`);
    queue.on('error', () => {});
    let app: TestApp | undefined;
    try {
      app = await startHealthApp(adapter, OWN_MODULE, {
        queue: { queue, worker: false, addTimeoutMs: STORE_TIMEOUT_MS },
      });
      const up = {
        status: 200,
        body: expect.objectContaining({
          info: {
            [KEY]: {
              status: 'up',
              store: 'InMemoryHopEventStore',
              store_status: 'unused',
              queue: `hop-health-${adapter}`,
              queue_status: 'up',
            },
          },
        }),
      };
      expect(await getHealth(app)).toEqual(up);

      await redis.kill('SIGKILL');
      expect(await getHealth(app)).toEqual({
        status: 503,
        body: expect.objectContaining({
          error: {
            [KEY]: expect.objectContaining({
              status: 'down',
              store_status: 'unused',
              queue: `hop-health-${adapter}`,
              queue_status: 'down',
              queue_error: expect.any(String),
            }),
          },
        }),
      });

      await redis.restart();
      await vi.waitFor(async () => expect(await getHealth(app!)).toEqual(up), POLL);
    } finally {
      await app?.close();
      // A queue closes once its Redis answers: back first, should the test fail while it was down.
      await redis.restart();
      await queue.close();
      await redis.stop();
    }
  });
});

describe.each(ADAPTERS)('GET /health on %s with several registrations in queue mode', (adapter) => {
  it('asks each queue: up naming the first, down (503) naming the one whose redis-server is killed, up once it is back', async (context) => {
    const [firstRedis, secondRedis] = await startRedisPair(context);
    const [first, second] = [firstRedis, secondRedis].map((redis, index) => {
      const queue = queueOn(redis, `hop-health-${adapter}-${index === 0 ? 'first' : 'second'}`);
      queue.on('error', () => {});
      context.onTestFinished(() => queue.close());
      return queue;
    });
    // A queue closes once its Redis answers: back before the queues close, even if the test failed.
    context.onTestFinished(() => secondRedis.restart());
    const app = await startTestApp(adapter, {
      imports: [
        HopWebhooksModule.forRoot({
          secret: SECRET,
          logging: false,
          queue: { queue: first, worker: false, addTimeoutMs: STORE_TIMEOUT_MS },
        }),
        HopWebhooksModule.forRoot({
          secret: SECRET,
          logging: false,
          path: 'hop/other-project',
          queue: { queue: second, worker: false, addTimeoutMs: STORE_TIMEOUT_MS },
        }),
        HealthModule,
      ],
    });
    // Registered last, so run first: the app closes before its queues and Redis go.
    context.onTestFinished(() => app.close());
    const up = {
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        info: {
          [KEY]: {
            status: 'up',
            store: 'InMemoryHopEventStore',
            store_status: 'unused',
            queue: first.name,
            queue_status: 'up',
          },
        },
        error: {},
      }),
    };
    expect(await getHealth(app)).toEqual(up);

    await secondRedis.kill('SIGKILL');
    expect(await getHealth(app)).toEqual({
      status: 503,
      body: expect.objectContaining({
        status: 'error',
        info: {},
        error: {
          [KEY]: {
            status: 'down',
            store: 'InMemoryHopEventStore',
            store_status: 'unused',
            queue: second.name,
            queue_status: 'down',
            queue_error: expect.any(String),
          },
        },
      }),
    });

    await secondRedis.restart();
    await vi.waitFor(async () => expect(await getHealth(app)).toEqual(up), POLL);
  });
});

describe.each(ADAPTERS)(
  'GET /health on %s in queue mode, its idempotency store down',
  (adapter) => {
    /**
     * A queue-mode app whose queue's Redis answers and whose RedisHopEventStore's redis-server
     * was killed; skips the test where there is no redis-server.
     */
    async function startWithStoreDown(
      context: TestContext,
      worker: HopQueueWorkerOptions | false,
    ): Promise<{ app: TestApp; queue: Queue }> {
      const [queueRedis, storeRedis] = await startRedisPair(context);
      const queue = queueOn(
        queueRedis,
        `hop-health-${adapter}-${worker === false ? 'receiver' : 'worker'}`,
      );
      const client = new Redis(storeRedis.url);
      client.on('error', () => {});
      context.onTestFinished(async () => {
        await queue.close();
        client.disconnect();
      });
      if (client.status !== 'ready') await once(client, 'ready');
      await storeRedis.kill('SIGKILL');
      const app = await startHealthApp(adapter, OWN_MODULE, {
        idempotency: { store: new RedisHopEventStore(client), storeTimeoutMs: STORE_TIMEOUT_MS },
        queue: { queue, worker, addTimeoutMs: STORE_TIMEOUT_MS },
      });
      // Registered last, so run first: the app closes before its queue and Redis go.
      context.onTestFinished(() => app.close());
      return { app, queue };
    }

    it('is up (200), the store unused and its queue up, on an instance that only queues (worker: false), which takes deliveries without the store', async (context) => {
      const { app, queue } = await startWithStoreDown(context, false);
      const event = buildHopEvent('project.updated');

      expect((await postHopEvent(app.url(), event, SECRET)).status).toBe(204);
      expect(await queue.getJobState(event.id)).toBe('waiting');
      expect(await getHealth(app)).toEqual({
        status: 200,
        body: expect.objectContaining({
          status: 'ok',
          info: {
            [KEY]: {
              status: 'up',
              store: 'RedisHopEventStore',
              store_status: 'unused',
              queue: queue.name,
              queue_status: 'up',
            },
          },
          error: {},
        }),
      });
    });

    it('is down (503), the store down, on an instance that runs a worker, whose jobs need the store', async (context) => {
      const { app, queue } = await startWithStoreDown(context, {});
      expect(await getHealth(app)).toEqual({
        status: 503,
        body: expect.objectContaining({
          status: 'error',
          error: {
            [KEY]: {
              status: 'down',
              store: 'RedisHopEventStore',
              store_status: 'down',
              error: expect.any(String),
              queue: queue.name,
              queue_status: 'up',
            },
          },
        }),
      });
    });
  },
);
