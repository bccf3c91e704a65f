import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Redis } from 'ioredis';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HopWebhooksModule,
  OnHopEvent,
  RedisHopEventStore,
  type HopEvent,
  type HopWebhooksModuleOptions,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent, signHopDelivery } from '../../lib/testing/index.js';
import { ClaimCountingStore } from '../src/claim-counting-store.js';
import { gate, type Gate } from '../src/gate.js';
import { mapConcurrently } from '../src/load.js';
import { startRedis, type RunningRedis } from '../src/redis-server.js';
import { ADAPTERS, startTestApp, type AdapterKind, type TestApp } from '../src/test-app.js';

const SECRET = 'whsec_delivery-guarantees-secret';

/** Counts, per event id, how often the handler started and how often it succeeded. */
@Injectable()
class CountingHandler {
  readonly started = new Map<string, number>();
  readonly succeeded = new Map<string, number>();
  readonly failFirstAttempt = new Set<string>();
  delayMs = 0;
  /** When set, handlers wait for it after starting. */
  gate?: Promise<void>;

  @OnHopEvent('*')
  async handle(event: HopEvent): Promise<void> {
    this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
    if (this.delayMs > 0) await sleep(this.delayMs);
    await this.gate;
    if (this.failFirstAttempt.delete(event.id)) throw new Error('transient failure');
    this.succeeded.set(event.id, (this.succeeded.get(event.id) ?? 0) + 1);
  }

  totalSucceeded(): number {
    return [...this.succeeded.values()].reduce((sum, count) => sum + count, 0);
  }
}

function startCountingApp(
  adapter: AdapterKind,
  options: Omit<HopWebhooksModuleOptions, 'secret'> = {},
): Promise<TestApp> {
  return startTestApp(adapter, {
    imports: [HopWebhooksModule.forRoot({ secret: SECRET, logging: false, ...options })],
    providers: [CountingHandler],
  });
}

describe.each(ADAPTERS)('delivery guarantees on %s', (adapter) => {
  let server: TestApp;
  let handler: CountingHandler;
  const restart = async (options: Omit<HopWebhooksModuleOptions, 'secret'> = {}) => {
    await server?.close();
    server = await startCountingApp(adapter, options);
    handler = server.app.get(CountingHandler);
  };
  // A handler held by a test is let go, so that the app can close even if the test failed.
  let hold: Gate | undefined;
  afterEach(async () => {
    hold?.open();
    hold = undefined;
    await server?.close();
    server = undefined as never;
  });

  /**
   * Sends an event whose handler is held (until `hold` opens), then, once it runs, a duplicate
   * of it; resolves once the store was asked `claims` times: the duplicate waits on the claim.
   */
  async function holdWithDuplicate(store: ClaimCountingStore, claims: number) {
    hold = gate();
    handler.gate = hold.opened;
    const event = buildHopEvent('project.updated');
    const first = postHopEvent(server.url(), event, SECRET);
    await expect.poll(() => handler.started.get(event.id), { timeout: 10_000 }).toBe(1);
    const duplicate = postHopEvent(server.url(), event, SECRET);
    await expect.poll(() => store.claims, { timeout: 10_000 }).toBeGreaterThanOrEqual(claims);
    return { event, first, duplicate };
  }

  it('acknowledges a duplicate delivery without running the handlers again', async () => {
    await restart();
    const event = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(handler.started.get(event.id)).toBe(1);
  });

  it('runs the handlers once for concurrent duplicates, both answered 2xx', async () => {
    await restart();
    handler.delayMs = 100;
    const event = buildHopEvent('project.updated');
    const statuses = await Promise.all(
      [1, 2, 3].map(async () => (await postHopEvent(server.url(), event, SECRET)).status),
    );
    expect(statuses).toEqual([204, 204, 204]);
    expect(handler.started.get(event.id)).toBe(1);
  });

  it('runs a concurrent duplicate of a failing delivery itself once the first let the claim go', async () => {
    await restart();
    handler.delayMs = 100;
    const event = buildHopEvent('project.updated');
    handler.failFirstAttempt.add(event.id);
    const statuses = await Promise.all(
      [1, 2].map(async () => (await postHopEvent(server.url(), event, SECRET)).status),
    );
    // Whichever claimed first ran and failed; the other waited, then claimed and ran.
    expect(statuses.sort()).toEqual([204, 500]);
    expect(handler.started.get(event.id)).toBe(2);
    expect(handler.succeeded.get(event.id)).toBe(1);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(handler.started.get(event.id)).toBe(2);
  });

  it('lets a duplicate take over a claim that lapsed while it waited, and run the event', async () => {
    const clock = { ms: Date.now() };
    const store = new ClaimCountingStore({ now: () => clock.ms });
    await restart({ idempotency: { store, leaseSeconds: 60 } });
    // The first delivery's claim, the duplicate's, and one of its asking again.
    const { event, first, duplicate } = await holdWithDuplicate(store, 3);
    clock.ms += 61_000;
    // As after its instance died; a first delivery still running (as here) runs beside it.
    await expect.poll(() => handler.started.get(event.id), { timeout: 10_000 }).toBe(2);
    hold?.open();
    expect((await duplicate).status).toBe(204);
    expect((await first).status).toBe(204);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(handler.started.get(event.id)).toBe(2);
  });

  it('answers a duplicate waiting on a claim 503 when the app shuts down, asking the store no more', async () => {
    const store = new ClaimCountingStore();
    await restart({ idempotency: { store } });
    // Asked again four times already, the duplicate pauses 800 ms before the next.
    const { first, duplicate } = await holdWithDuplicate(store, 6);
    const claimsWhenClosing = store.claims;
    const closing = server.app.close();
    expect((await duplicate).status).toBe(503);
    // Its pause before asking the store again was cut short: it did not ask again.
    expect(store.claims).toBe(claimsWhenClosing);
    hold?.open();
    expect((await first).status).toBe(204);
    await closing;
    server = undefined as never;
  });

  it('runs the handlers again on the retry of a failed delivery, and then never again', async () => {
    await restart();
    const event = buildHopEvent('project.updated');
    handler.failFirstAttempt.add(event.id);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(500);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(handler.started.get(event.id)).toBe(2);
    expect(handler.succeeded.get(event.id)).toBe(1);
  });

  it('runs the handlers on every delivery when idempotency is off', async () => {
    await restart({ idempotency: false });
    const event = buildHopEvent('project.updated');
    await postHopEvent(server.url(), event, SECRET);
    await postHopEvent(server.url(), event, SECRET);
    expect(handler.started.get(event.id)).toBe(2);
  });

  it('handles 5,000 distinct deliveries, 50 in flight, each exactly once (10% sent twice)', async () => {
    await restart();
    const events = Array.from({ length: 5_000 }, (_, index) =>
      buildHopEvent(index % 2 ? 'ignite.deployment.build.updated' : 'project.member.created'),
    );
    const deliveries = [...events, ...events.filter((_, index) => index % 10 === 0)];
    const statuses = await mapConcurrently(deliveries, 50, async (event) => {
      const response = await postHopEvent(server.url(), event, SECRET);
      await response.arrayBuffer();
      return response.status;
    });
    expect(statuses.filter((status) => status !== 204)).toEqual([]);
    expect(handler.succeeded.size).toBe(5_000);
    expect(handler.totalSucceeded()).toBe(5_000);
    expect(events.every((event) => handler.started.get(event.id) === 1)).toBe(true);
    // Counts are the subject: a busy machine may take long, and that is not a failure.
  }, 180_000);

  describe('replay window (maxEventAgeSeconds: 300)', () => {
    beforeEach(async () => {
      await restart({ maxEventAgeSeconds: 300, clockSkewSeconds: 30 });
    });

    it.each([
      ['an event that occurred just now', 0, 204],
      ['an event from 4 minutes ago', -240, 204],
      ['an event from 10 minutes ago', -600, 422],
      ['an event 10 s in the future (within skew)', 10, 204],
      ['an event 2 minutes in the future', 120, 422],
    ])('answers %s with %i', async (_case, offsetSeconds, status) => {
      const occurredAt = new Date(Date.now() + offsetSeconds * 1000).toISOString();
      const event = buildHopEvent('project.updated', { occurred_at: occurredAt });
      const response = await postHopEvent(server.url(), event, SECRET);
      expect(response.status).toBe(status);
      expect(handler.started.get(event.id)).toBe(status === 204 ? 1 : undefined);
      if (status === 422) {
        expect(String(((await response.json()) as { message: string }).message)).toMatch(
          /maxEventAgeSeconds|clockSkewSeconds/,
        );
      }
    });

    it('answers 422 to an event without a valid occurred_at', async () => {
      const event = buildHopEvent('project.updated', { occurred_at: 'yesterday' });
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(422);
    });
  });

  it('answers 500 when a handler exceeds handlerTimeoutMs, without waiting for it', async () => {
    await restart({ handlerTimeoutMs: 100 });
    handler.delayMs = 2_000;
    const event = buildHopEvent('project.updated');
    const response = await postHopEvent(server.url(), event, SECRET);
    expect(response.status).toBe(500);
    // Answered while the handler (2 s) was still running: the timeout did not wait for it.
    expect(handler.started.get(event.id)).toBe(1);
    expect(handler.succeeded.get(event.id)).toBeUndefined();
    const failure = server.logger.lines('error').find((line) => line.includes(event.id));
    expect(failure).toContain('did not finish within handlerTimeoutMs (100 ms)');
  });

  it('answers 413 to a body over bodyLimit (1 MiB by default on both adapters), without keeping it', async () => {
    await restart();
    const event = buildHopEvent('project.updated', {
      data: { padding: 'x'.repeat(1024 * 1024) } as never,
    });
    const response = await postHopEvent(server.url(), event, SECRET);
    expect(response.status).toBe(413);
    expect(await response.text()).toContain('bodyLimit (1048576 bytes)');
    expect(handler.started.size).toBe(0);

    // Declared too large: answered from Content-Length alone, before the body is sent.
    const declared = 8 * 1024 * 1024;
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(server.url(), {
        method: 'POST',
        headers: { ...signHopDelivery(event, SECRET).headers, 'content-length': String(declared) },
      });
      request.on('response', (answer) => {
        answer.resume();
        resolve(answer.statusCode ?? 0);
        request.destroy();
      });
      request.on('error', reject);
      request.write('{"id":"event_partial",');
    });
    expect(status).toBe(413);
    expect(handler.started.size).toBe(0);
  });

  it('finishes deliveries in progress on shutdown, and answers new ones 503', async () => {
    await restart();
    server.app.enableShutdownHooks();
    handler.delayMs = 300;
    const inFlight = Array.from({ length: 5 }, () => buildHopEvent('project.updated'));
    const answers = inFlight.map((event) => postHopEvent(server.url(), event, SECRET));
    while ([...handler.started.values()].length < inFlight.length) await sleep(5);
    const closing = server.app.close();
    await sleep(20);
    const late = await postHopEvent(server.url(), buildHopEvent('project.updated'), SECRET);
    expect(late.status).toBe(503);
    expect((await Promise.all(answers)).map((answer) => answer.status)).toEqual([
      204, 204, 204, 204, 204,
    ]);
    await closing;
    expect(handler.totalSucceeded()).toBe(5);
    server = undefined as never;
  });
});

/** Stands for a database client: closed by the app's own onModuleDestroy. */
@Injectable()
class Database implements OnModuleDestroy {
  closed = false;
  onModuleDestroy(): void {
    this.closed = true;
  }
}

@Injectable()
class SlowWriter {
  readonly wrote: Array<{ id: string; databaseOpen: boolean }> = [];
  constructor(private readonly database: Database) {}

  @OnHopEvent('project.updated')
  async write(event: HopEvent<'project.updated'>): Promise<void> {
    await sleep(200);
    this.wrote.push({ id: event.id, databaseOpen: !this.database.closed });
  }
}

describe.each(ADAPTERS)('shutdown and the app’s own providers on %s', (adapter) => {
  it('lets deliveries in progress finish before any onModuleDestroy runs', async () => {
    const server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot({ secret: SECRET, logging: false, isGlobal: true })],
      providers: [Database, SlowWriter],
    });
    const writer = server.app.get(SlowWriter);
    const event = buildHopEvent('project.updated');
    const answer = postHopEvent(server.url(), event, SECRET);
    await sleep(50);
    await server.app.close();
    expect((await answer).status).toBe(204);
    expect(writer.wrote).toEqual([{ id: event.id, databaseOpen: true }]);
  });
});

describe.each(ADAPTERS)('another listener on the app’s emitter on %s', (adapter) => {
  it('answers 500 when it throws synchronously, and the retry runs at once', async () => {
    const server = await startTestApp(adapter, {
      imports: [
        EventEmitterModule.forRoot(),
        HopWebhooksModule.forRoot({ secret: SECRET, logging: false }),
      ],
      providers: [CountingHandler],
    });
    const emitter = server.app.get(EventEmitter2);
    const explode = (): never => {
      throw new Error('synchronous listener failure');
    };
    emitter.on('hop.project.updated', explode);
    const event = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(500);
    emitter.off('hop.project.updated', explode);
    // The failed delivery released its claim: the retry does not wait out the lease (300 s,
    // far beyond this test's timeout).
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    // It had run in the failed delivery too (before the other listener threw): that failure
    // is why Hop retries, and the retry runs it again.
    expect(server.app.get(CountingHandler).started.get(event.id)).toBe(2);
    await server.close();
  });
});

@Injectable()
class RejectingListener {
  @OnEvent('hop.project.updated', { suppressErrors: false })
  async reject(): Promise<void> {
    throw new Error('plain listener rejected');
  }
}

describe.each(ADAPTERS)('an @OnEvent listener that rejects on %s', (adapter) => {
  it('answers 500 only once the module’s own handlers have finished', async () => {
    const server = await startTestApp(adapter, {
      imports: [
        EventEmitterModule.forRoot(),
        HopWebhooksModule.forRoot({ secret: SECRET, logging: false }),
      ],
      providers: [CountingHandler, RejectingListener],
    });
    const handler = server.app.get(CountingHandler);
    handler.delayMs = 200;
    const event = buildHopEvent('project.updated');
    const response = await postHopEvent(server.url(), event, SECRET);
    expect(response.status).toBe(500);
    expect(handler.succeeded.get(event.id)).toBe(1);
    const logged = server.logger.lines('error').find((line) => line.includes(event.id));
    expect(logged).toContain('plain listener rejected');
    await server.close();
  });
});

describe('a Redis store shared by two app instances', () => {
  let redis: RunningRedis | undefined;
  let clients: Redis[] = [];
  let servers: TestApp[] = [];
  const unavailable: { reason?: string } = {};

  beforeAll(async () => {
    const started = await startRedis();
    if ('unavailable' in started) {
      unavailable.reason = started.unavailable;
      console.warn(`SKIPPED Redis store tests: ${started.unavailable}`);
      return;
    }
    redis = started;
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all(clients.map((client) => client.quit()));
    servers = [];
    clients = [];
  });
  afterAll(() => redis?.stop());

  async function startInstances(adapter: AdapterKind): Promise<[TestApp, TestApp]> {
    const keyPrefix = `hop-test:${Math.random().toString(36).slice(2)}:`;
    for (let i = 0; i < 2; i++) {
      const client = new Redis(redis!.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
      clients.push(client);
      servers.push(
        await startCountingApp(adapter, {
          idempotency: { store: new RedisHopEventStore(client, { keyPrefix }), leaseSeconds: 10 },
        }),
      );
    }
    return servers as [TestApp, TestApp];
  }
  const countStarts = (eventId: string) =>
    servers.reduce(
      (sum, server) => sum + (server.app.get(CountingHandler).started.get(eventId) ?? 0),
      0,
    );

  describe.each(ADAPTERS)('on %s', (adapter) => {
    it('runs the handlers once for a duplicate delivered to the other instance', async (context) => {
      if (!redis) return context.skip(unavailable.reason);
      const [first, second] = await startInstances(adapter);
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(first.url(), event, SECRET)).status).toBe(204);
      expect((await postHopEvent(second.url(), event, SECRET)).status).toBe(204);
      expect(countStarts(event.id)).toBe(1);
    });

    it('runs the handlers once for concurrent duplicates on both instances', async (context) => {
      if (!redis) return context.skip(unavailable.reason);
      const [first, second] = await startInstances(adapter);
      for (const server of servers) server.app.get(CountingHandler).delayMs = 150;
      const event = buildHopEvent('project.updated');
      const statuses = await Promise.all(
        [first, second, first, second].map(
          async (server) => (await postHopEvent(server.url(), event, SECRET)).status,
        ),
      );
      expect(statuses).toEqual([204, 204, 204, 204]);
      expect(countStarts(event.id)).toBe(1);
    });

    it('accepts a fractional leaseSeconds (whole milliseconds for PX)', async (context) => {
      if (!redis) return context.skip(unavailable.reason);
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      const server = await startCountingApp(adapter, {
        idempotency: { store: new RedisHopEventStore(client), leaseSeconds: 4.02 },
      });
      servers.push(server);
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    });

    it('answers 503 at once to a delivery waiting on the other instance when its app shuts down', async (context) => {
      if (!redis) return context.skip(unavailable.reason);
      const [first, second] = await startInstances(adapter);
      first.app.get(CountingHandler).delayMs = 1_500;
      const event = buildHopEvent('project.updated');
      const running = postHopEvent(first.url(), event, SECRET);
      await sleep(100);
      const waiting = postHopEvent(second.url(), event, SECRET);
      await sleep(200);
      const closing = second.app.close();
      expect((await waiting).status).toBe(503);
      // Answered before the other instance's handler (1.5 s) finished: it did not wait for it.
      expect(first.app.get(CountingHandler).succeeded.get(event.id)).toBeUndefined();
      await closing;
      expect((await running).status).toBe(204);
      servers = servers.filter((server) => server !== second);
    });

    it('lets the retry of a failed delivery run on the other instance', async (context) => {
      if (!redis) return context.skip(unavailable.reason);
      const [first, second] = await startInstances(adapter);
      const event = buildHopEvent('project.updated');
      first.app.get(CountingHandler).failFirstAttempt.add(event.id);
      expect((await postHopEvent(first.url(), event, SECRET)).status).toBe(500);
      expect((await postHopEvent(second.url(), event, SECRET)).status).toBe(204);
      expect((await postHopEvent(first.url(), event, SECRET)).status).toBe(204);
      expect(countStarts(event.id)).toBe(2);
    });
  });
});
