// Queue mode against a real redis-server: a verified delivery becomes a BullMQ job whose id is
// the event id (204 once Redis has it), and a worker (in the receiving app or in another) runs
// the handlers, with retries. Each test has a queue of its own, and counts outcomes: what Hop
// was answered, which handler ran how often, and where each job ended.
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import {
  Injectable,
  Module,
  type ModuleMetadata,
  type OnModuleDestroy,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type TestContext } from 'vitest';
import {
  HopConfigurationError,
  HopWebhooksModule,
  OnHopEvent,
  type HopEvent,
  type HopQueueJobData,
  type HopQueueOptions,
  type HopWebhooksModuleOptions,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent } from '../../lib/testing/index.js';
import { ClaimCountingStore } from '../src/claim-counting-store.js';
import { gate } from '../src/gate.js';
import { HopSender } from '../src/hop-sender.js';
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

const SECRET = 'whsec_queue-spec-secret-0123456789';
// Eventual outcomes (a job completed, retried, failed) are awaited this long at most.
const SETTLED = { timeout: 15_000, interval: 25 };
// Retries within a test: three attempts, 10 ms apart.
const FAST_RETRIES = { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } as const;

/** Counts, per event id, how often the handler started and finished; told to fail or to wait. */
@Injectable()
class CountingHandler {
  readonly started = new Map<string, number>();
  readonly finished = new Map<string, number>();
  /** Attempts of each event that fail before one succeeds (`Infinity`: every one). */
  failFirst = 0;
  /** Every attempt waits for it before finishing. */
  hold: Promise<void> | undefined;
  /** The first attempt of each event waits for it before finishing. */
  holdFirstAttempt: Promise<void> | undefined;

  @OnHopEvent('project.updated')
  async handle(event: HopEvent<'project.updated'>): Promise<void> {
    const attempt = increment(this.started, event.id);
    await this.hold;
    if (attempt === 1) await this.holdFirstAttempt;
    if (attempt <= this.failFirst) throw new Error(`failed on purpose (attempt ${attempt})`);
    increment(this.finished, event.id);
  }

  /** How often the handler started for `event`, 0 if never. */
  startedFor(event: HopEvent<string>): number {
    return this.started.get(event.id) ?? 0;
  }

  /** How often the handler finished for `event`, 0 if never. */
  finishedFor(event: HopEvent<string>): number {
    return this.finished.get(event.id) ?? 0;
  }
}

/** Stands for a database client the handler uses: closed by the app's own onModuleDestroy. */
@Injectable()
class Database implements OnModuleDestroy {
  /** How many runs of the handler had finished when it closed. */
  finishedWhenClosed: number | undefined;

  constructor(private readonly handler: CountingHandler) {}

  onModuleDestroy(): void {
    this.finishedWhenClosed = [...this.handler.finished.values()].reduce((a, b) => a + b, 0);
  }
}

/** Always fails, and says the failure does not count. */
@Injectable()
class QuietlyFailingHandler {
  started = 0;

  @OnHopEvent('project.updated', { suppressErrors: true })
  handle(): never {
    this.started++;
    throw new Error('a failure suppressErrors hides');
  }
}

function increment(counts: Map<string, number>, id: string): number {
  const count = (counts.get(id) ?? 0) + 1;
  counts.set(id, count);
  return count;
}

/** A queue name no other test uses, so each test sees only its own jobs. */
function uniqueQueueName(): string {
  return `hop-queue-spec-${randomUUID()}`;
}

function connectionTo(redis: RunningRedis): { host: string; port: number } {
  const { hostname, port } = new URL(redis.url);
  return { host: hostname, port: Number(port) };
}

/** Closers of what the running test opened, run after it, the last opened first. */
const opened: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
}, 60_000);

/** Closes `close` after the test; calling the returned function closes it now, once. */
function closeAfterTest(close: () => Promise<unknown>): () => Promise<void> {
  let closing: Promise<unknown> | undefined;
  const once = async () => {
    closing ??= close();
    await closing;
  };
  opened.push(once);
  return once;
}

/** A BullMQ queue, closed after the test: the app's, or the test's view of the app's. */
function openQueue(name: string, connection: ConnectionOptions): Queue<HopQueueJobData> {
  const queue = new Queue<HopQueueJobData>(name, { connection });
  // A Queue re-emits its connection's errors (Redis down), which must not go unheard.
  queue.on('error', () => {});
  closeAfterTest(() => queue.close());
  return queue;
}

/** A test app, closed after the test (or when its `close` is called, once). */
async function startApp(adapter: AdapterKind, metadata: ModuleMetadata): Promise<TestApp> {
  const app = await startTestApp(adapter, metadata);
  return { ...app, close: closeAfterTest(() => app.close()) };
}

type QueueAppOptions = Omit<HopWebhooksModuleOptions, 'secret' | 'queue'> & {
  queue: HopQueueOptions;
};

/** An app that receives deliveries, and runs their jobs unless `queue.worker` is false. */
function startQueueApp(
  adapter: AdapterKind,
  options: QueueAppOptions,
  handlers: Type<unknown>[] = [CountingHandler],
): Promise<TestApp> {
  return startApp(adapter, {
    imports: [HopWebhooksModule.forRoot({ secret: SECRET, ...options })],
    providers: handlers,
  });
}

/** An app that runs the queue's jobs and receives nothing: no webhook route, no secret. */
function startWorkerApp(adapter: AdapterKind, queue: Queue<HopQueueJobData>): Promise<TestApp> {
  return startApp(adapter, {
    imports: [HopWebhooksModule.forRoot({ receive: false, queue: { queue } })],
    providers: [CountingHandler],
  });
}

async function deliver(app: TestApp, event: HopEvent<string>): Promise<number> {
  return (await postHopEvent(app.url(), event, SECRET)).status;
}

/** The event's job once it is in `state`, read then (its data and timestamps final). */
async function jobIn(
  queue: Queue<HopQueueJobData>,
  event: HopEvent<string>,
  state: 'completed' | 'failed',
): Promise<Job<HopQueueJobData>> {
  await vi.waitFor(async () => expect(await queue.getJobState(event.id)).toBe(state), SETTLED);
  return (await queue.getJob(event.id))!;
}

/** How many jobs the queue holds, by state. */
async function jobCounts(queue: Queue<HopQueueJobData>): Promise<Record<string, number>> {
  return queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
}

describe('queue mode', () => {
  let redis: RunningRedis | undefined;
  let unavailable: string | undefined;

  beforeAll(async () => {
    const started = await startRedis();
    if ('unavailable' in started) unavailable = started.unavailable;
    else redis = started;
  });
  afterAll(() => redis?.stop());

  /** The test's Redis connection; skips the test where there is no redis-server. */
  function connection(context: TestContext): { host: string; port: number } {
    if (!redis) context.skip(unavailable);
    return connectionTo(redis!);
  }

  describe.each(ADAPTERS)('on %s', (adapter) => {
    describe('set up as users do', () => {
      it('with @nestjs/bullmq: a delivery is answered 204, and its job (id: the event id) completes once', async (context) => {
        const name = uniqueQueueName();
        const app = await startApp(adapter, {
          imports: [
            BullModule.forRoot({ connection: connection(context) }),
            HopWebhooksModule.forRootAsync({
              imports: [BullModule.registerQueue({ name })],
              inject: [getQueueToken(name)],
              useFactory: (queue: Queue) => ({ secret: SECRET, queue: { queue } }),
            }),
          ],
          providers: [CountingHandler],
        });
        const queue = app.app.get<Queue<HopQueueJobData>>(getQueueToken(name), { strict: false });
        const handler = app.app.get(CountingHandler);
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const job = await jobIn(queue, event, 'completed');
        expect(job.id).toBe(event.id);
        expect(job.name).toBe('project.updated');
        expect(job.data).toEqual({ event });
        expect(handler.startedFor(event)).toBe(1);
        expect(handler.finishedFor(event)).toBe(1);
      });

      it('with new Queue(name, { connection }): a delivery is answered 204, and its job completes once', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { queue: { queue } });
        const handler = app.app.get(CountingHandler);
        const events = [buildHopEvent('project.updated'), buildHopEvent('project.updated')];

        for (const event of events) expect(await deliver(app, event)).toBe(204);
        for (const event of events)
          expect((await jobIn(queue, event, 'completed')).id).toBe(event.id);
        expect(events.map((event) => handler.startedFor(event))).toEqual([1, 1]);
        expect(await jobCounts(queue)).toMatchObject({ waiting: 0, active: 0, completed: 2 });
      });

      it('with new Queue(name, { connection: new Redis(url) }): the worker gets a client of its own that BullMQ accepts', async (context) => {
        const { host, port } = connection(context);
        // ioredis's defaults (maxRetriesPerRequest: 20), which BullMQ refuses for a worker.
        const client = new Redis({ host, port });
        closeAfterTest(() => client.quit());
        const queue = openQueue(uniqueQueueName(), client as unknown as ConnectionOptions);
        const app = await startQueueApp(adapter, { queue: { queue } });
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        expect((await jobIn(queue, event, 'completed')).id).toBe(event.id);
        expect(app.app.get(CountingHandler).startedFor(event)).toBe(1);
      });
    });

    describe('a receiver and a worker in two apps', () => {
      it('runs the receiver’s deliveries in the worker app, which has no webhook route and no secret', async (context) => {
        const name = uniqueQueueName();
        const receiver = await startQueueApp(adapter, {
          queue: { queue: openQueue(name, connection(context)), worker: false },
        });
        const worker = await startWorkerApp(adapter, openQueue(name, connection(context)));
        const inspected = openQueue(name, connection(context));
        const events = [1, 2, 3].map(() => buildHopEvent('project.updated'));

        for (const event of events) expect(await deliver(receiver, event)).toBe(204);
        for (const event of events) await jobIn(inspected, event, 'completed');
        const ran = worker.app.get(CountingHandler);
        expect(events.map((event) => ran.finishedFor(event))).toEqual([1, 1, 1]);
        expect(receiver.app.get(CountingHandler).started.size).toBe(0);
        // The worker app receives nothing: its webhook route is not there, nor said to be.
        expect(await deliver(worker, buildHopEvent('project.updated'))).toBe(404);
        expect(ran.started.size).toBe(3);
        const startup = worker.logger.lines('log');
        expect(startup).toContain(
          'No webhook route here (receive: false); 1 handler(s) wired for queued Hop events',
        );
        expect(startup.filter((line) => line.startsWith('Receiving'))).toEqual([]);
        expect(receiver.logger.lines('log')).toContain(
          'Receiving Hop webhooks at POST /hop/webhook; 1 handler(s) wired',
        );
      });

      it('runs them in an application context (no HTTP) that imports the module with receive: false', async (context) => {
        const name = uniqueQueueName();
        const receiver = await startQueueApp(adapter, {
          queue: { queue: openQueue(name, connection(context)), worker: false },
        });
        @Module({
          imports: [
            HopWebhooksModule.forRoot({
              receive: false,
              queue: { queue: openQueue(name, connection(context)) },
            }),
          ],
          providers: [CountingHandler],
        })
        class WorkerModule {}
        const worker = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
        closeAfterTest(() => worker.close());
        const inspected = openQueue(name, connection(context));
        const event = buildHopEvent('project.updated');

        expect(await deliver(receiver, event)).toBe(204);
        await jobIn(inspected, event, 'completed');
        expect(worker.get(CountingHandler).finishedFor(event)).toBe(1);
        expect(receiver.app.get(CountingHandler).started.size).toBe(0);
      });
    });

    describe('duplicates', () => {
      // Idempotency off: the job id alone keeps a redelivery from running the handler again.
      const withoutStore = (queue: Queue<HopQueueJobData>): QueueAppOptions => ({
        idempotency: false,
        queue: { queue },
      });

      it('adds nothing for a redelivery of a completed event', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, withoutStore(queue));
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const { finishedOn } = await jobIn(queue, event, 'completed');
        expect(await deliver(app, event)).toBe(204);
        expect(await deliver(app, event)).toBe(204);

        expect(await jobCounts(queue)).toMatchObject({ waiting: 0, active: 0, completed: 1 });
        expect((await queue.getJob(event.id))?.finishedOn).toBe(finishedOn);
        expect(app.app.get(CountingHandler).startedFor(event)).toBe(1);
      });

      it('queues an event whatever its id, each once: ids BullMQ refuses or Redis would merge', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, withoutStore(queue));
        // BullMQ refuses the first ones; Redis would merge the surrogates; the rest print badly.
        const ids = ['12345', '-1', 'a:b', 'a:b:c', '%003a', 'event_\ud800', 'event_\ufffd'];
        ids.push('event_\n[Nest] forged', 'event_😀');
        const events = ids.map((id) => buildHopEvent('project.updated', { id }));
        for (const event of [...events, ...events]) expect(await deliver(app, event)).toBe(204);
        await vi.waitFor(
          async () => expect(await jobCounts(queue)).toMatchObject({ completed: ids.length }),
          SETTLED,
        );
        const counter = app.app.get(CountingHandler);
        expect(events.map((event) => counter.startedFor(event))).toEqual(ids.map(() => 1));
        expect(app.logger.text()).not.toContain('\n[Nest] forged');
      });

      it('fails, without running a handler, a job in its queue that is not a Hop event', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, withoutStore(queue));
        const foreign = await queue.add('report', { report: 'nightly' } as never, { attempts: 1 });
        await vi.waitFor(
          async () => expect(await queue.getJobState(foreign.id!)).toBe('failed'),
          SETTLED,
        );
        const failed = await queue.getJob(foreign.id!);
        expect(failed?.failedReason).toContain('holds no Hop event');
        expect(app.logger.lines('error')).toEqual([expect.stringContaining('holds no Hop event')]);
        expect(app.app.get(CountingHandler).started.size).toBe(0);
      });

      it('adds nothing for a redelivery while the job runs', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, withoutStore(queue));
        const handler = app.app.get(CountingHandler);
        const running = gate();
        handler.hold = running.opened;
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        await vi.waitFor(() => expect(handler.startedFor(event)).toBe(1), SETTLED);
        expect(await deliver(app, event)).toBe(204);
        running.open();

        await jobIn(queue, event, 'completed');
        expect(await jobCounts(queue)).toMatchObject({ waiting: 0, active: 0, completed: 1 });
        expect(handler.startedFor(event)).toBe(1);
      });

      it('queues one job for two concurrent deliveries of one event', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, withoutStore(queue));
        const event = buildHopEvent('project.updated');

        const statuses = await Promise.all([deliver(app, event), deliver(app, event)]);
        expect(statuses).toEqual([204, 204]);
        await jobIn(queue, event, 'completed');
        expect(await jobCounts(queue)).toMatchObject({ waiting: 0, active: 0, completed: 1 });
        expect(app.app.get(CountingHandler).startedFor(event)).toBe(1);
      });
    });

    describe('retries', () => {
      it('records each failed attempt, logs it, and leaves the job in the failed set after the last', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { queue: { queue, ...FAST_RETRIES } });
        const handler = app.app.get(CountingHandler);
        handler.failFirst = Infinity;
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const job = await jobIn(queue, event, 'failed');
        expect(job.failedReason).toContain('CountingHandler.handle');
        expect(job.data.failures?.map(({ attempt }) => attempt)).toEqual([1, 2, 3]);
        for (const failure of job.data.failures ?? []) {
          expect(failure.failed).toEqual([
            {
              handler: 'CountingHandler.handle',
              error: expect.stringContaining(`failed on purpose (attempt ${failure.attempt})`),
            },
          ]);
          expect(Date.parse(failure.at)).not.toBeNaN();
        }
        expect(handler.startedFor(event)).toBe(3);
        expect(handler.finishedFor(event)).toBe(0);

        const attemptLines = (attempt: number) =>
          app.logger
            .lines('error')
            .filter((line) => line.includes(event.id) && line.includes(`attempt ${attempt} of 3`));
        for (const attempt of [1, 2, 3]) {
          expect(attemptLines(attempt)).toEqual([
            expect.stringContaining('CountingHandler.handle'),
          ]);
        }
        expect(attemptLines(2)[0]).toContain('BullMQ retries it');
        expect(attemptLines(3)[0]).toContain(`it stays in the failed set of queue ${queue.name}`);
      });

      it('completes a job whose handler fails twice, on the third attempt, the handler finished once', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { queue: { queue, ...FAST_RETRIES } });
        const handler = app.app.get(CountingHandler);
        handler.failFirst = 2;
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const job = await jobIn(queue, event, 'completed');
        expect(job.data.failures?.map(({ attempt }) => attempt)).toEqual([1, 2]);
        expect(handler.startedFor(event)).toBe(3);
        expect(handler.finishedFor(event)).toBe(1);
      });

      it('runs, in one attempt, a job whose event a dead worker had claimed, once that claim lapses', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const clock = { ms: Date.now() };
        const store = new ClaimCountingStore({ now: () => clock.ms });
        const event = buildHopEvent('project.updated');
        // The claim of a worker killed while it ran the event's job.
        expect(await store.claim(event.id, 60_000)).toBe('claimed');
        const app = await startQueueApp(adapter, {
          idempotency: { store, leaseSeconds: 60 },
          queue: { queue, attempts: 1 },
        });

        expect(await deliver(app, event)).toBe(204);
        // This worker's claim, and one of its asking again: it waits on the dead one's.
        await expect.poll(() => store.claims, SETTLED).toBeGreaterThanOrEqual(3);
        clock.ms += 61_000;
        const job = await jobIn(queue, event, 'completed');
        expect(job.attemptsMade).toBe(1);
        expect(job.data.failures).toBeUndefined();
        expect(app.app.get(CountingHandler).finishedFor(event)).toBe(1);
      });

      it('completes a job whose only failure is a handler’s with suppressErrors', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { queue: { queue, ...FAST_RETRIES } }, [
          QuietlyFailingHandler,
        ]);
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const job = await jobIn(queue, event, 'completed');
        expect(job.data.failures).toBeUndefined();
        expect(app.app.get(QuietlyFailingHandler).started).toBe(1);
        expect(app.logger.lines('error').join('\n')).toContain(
          'QuietlyFailingHandler.handle failed',
        );
      });

      it('fails an attempt whose handler outlasts handlerTimeoutMs, and retries it', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, {
          handlerTimeoutMs: 200,
          queue: { queue, ...FAST_RETRIES },
        });
        const handler = app.app.get(CountingHandler);
        const stuck = gate();
        closeAfterTest(async () => stuck.open());
        handler.holdFirstAttempt = stuck.opened;
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        const job = await jobIn(queue, event, 'completed');
        expect(job.data.failures).toEqual([
          {
            attempt: 1,
            failed: [
              {
                handler: 'CountingHandler.handle',
                error: expect.stringContaining('handlerTimeoutMs (200 ms)'),
              },
            ],
            at: expect.any(String),
          },
        ]);
        // The first attempt is still waiting; the second finished.
        expect(handler.startedFor(event)).toBe(2);
        expect(handler.finishedFor(event)).toBe(1);
      });
    });

    describe('maxEventAgeSeconds', () => {
      it('answers 422 to an old event and never queues it', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { maxEventAgeSeconds: 60, queue: { queue } });
        const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
        const old = buildHopEvent('project.updated', { occurred_at: hourAgo });
        const fresh = buildHopEvent('project.updated');

        expect(await deliver(app, old)).toBe(422);
        expect(await deliver(app, fresh)).toBe(204);
        await jobIn(queue, fresh, 'completed');
        expect(await queue.getJob(old.id)).toBeUndefined();
        expect(await jobCounts(queue)).toMatchObject({ waiting: 0, delayed: 0, completed: 1 });
        expect(app.app.get(CountingHandler).startedFor(old)).toBe(0);
      });
    });

    describe('shutdown', () => {
      it('lets the worker finish the job it is running before app.close() resolves, and before the app’s providers close', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const app = await startQueueApp(adapter, { queue: { queue } }, [CountingHandler, Database]);
        const handler = app.app.get(CountingHandler);
        const running = gate();
        handler.hold = running.opened;
        const event = buildHopEvent('project.updated');

        expect(await deliver(app, event)).toBe(204);
        await vi.waitFor(() => expect(handler.startedFor(event)).toBe(1), SETTLED);
        let closed = false;
        const closing = app.close().then(() => (closed = true));
        // Long enough for a close that did not wait for the job to be over.
        await sleep(200);
        expect(closed).toBe(false);
        running.open();
        await closing;

        expect(handler.finishedFor(event)).toBe(1);
        expect(await queue.getJobState(event.id)).toBe('completed');
        // The handler had its database to the end.
        expect(app.app.get(Database).finishedWhenClosed).toBe(1);
      });

      it('answers 503 to new deliveries while closing, and lets the one being queued finish', async (context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        // Adds wait for `redisAnswers`, which the test opens once the app is closing.
        const redisAnswers = gate();
        const added: string[] = [];
        const add = queue.add.bind(queue);
        queue.add = async (...args: Parameters<typeof add>) => {
          added.push(args[2]?.jobId ?? '');
          await redisAnswers.opened;
          return add(...args);
        };
        const receiver = await startQueueApp(adapter, {
          // Far longer than the test: a 503 here can only come from closing.
          queue: { queue, worker: false, addTimeoutMs: 120_000 },
        });
        const inFlight = buildHopEvent('project.updated');
        const late = buildHopEvent('project.updated');

        const inFlightAnswer = deliver(receiver, inFlight);
        await vi.waitFor(() => expect(added).toEqual([inFlight.id]), SETTLED);
        const closing = receiver.close();
        // The app starts draining within the same turn of the event loop.
        await sleep(20);
        expect(await deliver(receiver, late)).toBe(503);
        redisAnswers.open();
        expect(await inFlightAnswer).toBe(204);
        await closing;

        expect(added).toEqual([inFlight.id]);
        expect(await queue.getJob(inFlight.id)).toBeDefined();
        expect(await queue.getJob(late.id)).toBeUndefined();
      });
    });

    describe('startup checks', () => {
      it.for<[string, (queue: Queue) => HopWebhooksModuleOptions & { receive?: boolean }, string]>([
        [
          'an unknown queue option',
          (queue) => ({ secret: SECRET, queue: { queue, foo: 1 } as HopQueueOptions }),
          'unknown option `queue.foo`',
        ],
        [
          'a queue that is not a BullMQ Queue',
          () => ({ secret: SECRET, queue: { queue: { name: 'hop' } as never } }),
          '`queue.queue` must be a BullMQ Queue',
        ],
        [
          'receive: false without a queue',
          () => ({ receive: false }),
          '`receive: false` is for a process that runs queued deliveries: it needs `queue`',
        ],
        [
          'receive: false with queue.worker: false',
          (queue) => ({ receive: false, queue: { queue, worker: false } }),
          '`receive: false` with `queue.worker: false` neither receives nor runs deliveries: drop one of them',
        ],
      ])('stops the app for %s, naming the option', async ([, options, message], context) => {
        const queue = openQueue(uniqueQueueName(), connection(context));
        const error = await startupError(
          { imports: [HopWebhooksModule.forRoot(options(queue))] },
          adapter,
        );
        expect(error).toBeInstanceOf(HopConfigurationError);
        expect(error.message).toContain(message);
      });
    });
  });
});

// Redis is killed (SIGKILL) and started again on the same port from its append-only file,
// fsynced before each reply: it comes back with every job it had confirmed.
describe.each(ADAPTERS)('queue mode while Redis is down, on %s', (adapter) => {
  /** A redis-server of the test's own, to kill; skips the test where there is none. */
  async function startOwnRedis(context: TestContext): Promise<RestartableRedis> {
    const started = await startRestartableRedis();
    if ('unavailable' in started) return context.skip(started.unavailable);
    closeAfterTest(() => started.stop());
    return started;
  }

  /**
   * `default client`: one app receives and works, on a connection with BullMQ's defaults, whose
   * commands wait while Redis is down (an add is answered 503 after queue.addTimeoutMs).
   * `fail-fast client`: the receiver's connection has no offline queue, so an add fails at
   * once; a worker app (default connection) runs the jobs.
   */
  const SETUPS = ['default client', 'fail-fast client'] as const;

  it.for(SETUPS)(
    'answers 503 while Redis is down, never 2xx, and a redelivery after runs each handler once (%s)',
    { timeout: 120_000 },
    async (setup, context) => {
      const restartable = await startOwnRedis(context);
      const connection = connectionTo(restartable);
      const name = uniqueQueueName();
      // A Redis that does not answer is given this long before the delivery is answered 503;
      // a healthy one answers far sooner, even on a busy machine.
      const addTimeoutMs = 1_000;
      const receiver =
        setup === 'default client'
          ? await startQueueApp(adapter, {
              queue: { queue: openQueue(name, connection), addTimeoutMs },
            })
          : await startQueueApp(adapter, {
              queue: {
                queue: openQueue(name, { ...connection, enableOfflineQueue: false }),
                worker: false,
                addTimeoutMs,
              },
            });
      const worker =
        setup === 'default client'
          ? receiver
          : await startWorkerApp(adapter, openQueue(name, connection));
      const handler = worker.app.get(CountingHandler);
      // Delivers as Hop does: again, after a pause, until answered 2xx.
      const hop = new HopSender({
        secret: SECRET,
        concurrency: 10,
        maxAttempts: 40,
        attemptTimeoutMs: 10_000,
      });
      const before = buildHopEvent('project.updated');
      const during = [1, 2, 3].map(() => buildHopEvent('project.updated'));
      const events = [before, ...during];

      await hop.deliver(receiver.url(), before);
      await vi.waitFor(() => expect(handler.finishedFor(before)).toBe(1), SETTLED);
      await restartable.kill('SIGKILL');
      const answers = [];
      for (const event of during) answers.push(await deliver(receiver, event));
      expect(answers).toEqual([503, 503, 503]);
      await restartable.restart();
      await Promise.all(during.map((event) => hop.deliver(receiver.url(), event)));

      // Hop's retries may find Redis not reachable yet (503): it tries them again.
      const { 204: acknowledged, 503: _refused, ...otherAnswers } = hop.answers;
      expect({ acknowledged, otherAnswers, gaveUp: hop.gaveUp }).toEqual({
        acknowledged: events.length,
        otherAnswers: {},
        gaveUp: 0,
      });
      const inspected = openQueue(name, connection);
      for (const event of events) await jobIn(inspected, event, 'completed');
      expect(events.map((event) => handler.startedFor(event))).toEqual([1, 1, 1, 1]);
      expect(events.map((event) => handler.finishedFor(event))).toEqual([1, 1, 1, 1]);
      // Nest's static Logger writes to the app created last: the lines may be in either app's.
      const errors = [receiver, worker].flatMap((app) => app.logger.lines('error')).join('\n');
      expect(errors).toContain(`Could not queue Hop event ${during[0]!.id}`);
      if (setup === 'default client') {
        expect(errors).toContain(`no answer within queue.addTimeoutMs (${addTimeoutMs} ms)`);
      }
    },
  );
});
