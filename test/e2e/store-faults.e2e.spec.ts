// The idempotency store failing on purpose, one operation at a time: what Hop gets back, and
// that each event's handlers still run once, or again only after a failure Hop retries.
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HopWebhooksModule,
  InMemoryHopEventStore,
  OnHopEvent,
  type HopEvent,
  type HopEventClaim,
  type HopEventStore,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent } from '../../lib/testing/index.js';
import { ADAPTERS, startTestApp, type TestApp } from '../src/test-app.js';

const SECRET = 'whsec_store-faults-spec-secret-0123456789';
const STORE_TIMEOUT_MS = 200;

type Operation = 'claim' | 'complete' | 'release';
/** `fail`: rejects; `hang`: never answers; `late`: does the work, answers after the timeout. */
type Fault = 'fail' | 'hang' | 'late';

/** An in-memory store that can be told to fail its next calls of one operation. */
class FaultyStore implements HopEventStore {
  private readonly inner = new InMemoryHopEventStore();
  private readonly planned = new Map<Operation, { fault: Fault; times: number }>();

  failNext(operation: Operation, fault: Fault, times = 1): void {
    this.planned.set(operation, { fault, times });
  }

  claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    return this.run('claim', () => this.inner.claim(eventId, leaseMs));
  }

  complete(eventId: string): Promise<void> {
    return this.run('complete', () => this.inner.complete(eventId));
  }

  release(eventId: string): Promise<void> {
    return this.run('release', () => this.inner.release(eventId));
  }

  private async run<T>(operation: Operation, call: () => Promise<T>): Promise<T> {
    const plan = this.planned.get(operation);
    if (plan === undefined || plan.times === 0) return call();
    plan.times--;
    if (plan.fault === 'fail') throw new Error(`${operation} failed on purpose`);
    if (plan.fault === 'hang') return new Promise<never>(() => undefined);
    await sleep(STORE_TIMEOUT_MS * 3);
    return call();
  }
}

/** Counts, per event id, how often the handler started; fails while `failing` is set. */
@Injectable()
class Handler {
  readonly started = new Map<string, number>();
  failing = false;

  @OnHopEvent('project.updated')
  handle(event: HopEvent<'project.updated'>): void {
    this.started.set(event.id, (this.started.get(event.id) ?? 0) + 1);
    if (this.failing) throw new Error('handler failed on purpose');
  }
}

describe.each(ADAPTERS)('an idempotency store that fails, on %s', (adapter) => {
  let server: TestApp;
  let store: FaultyStore;
  let handler: Handler;

  async function start(): Promise<void> {
    store = new FaultyStore();
    server = await startTestApp(adapter, {
      imports: [
        HopWebhooksModule.forRoot({
          secret: SECRET,
          idempotency: { store, leaseSeconds: 1, storeTimeoutMs: STORE_TIMEOUT_MS },
        }),
      ],
      providers: [Handler],
    });
    handler = server.app.get(Handler);
  }
  afterEach(async () => {
    await server?.close();
    server = undefined as never;
  });

  const deliver = async (event: HopEvent<string>) =>
    (await postHopEvent(server.url(), event, SECRET)).status;
  const errors = () => server.logger.lines('error').join('\n');

  it.each<[Fault]>([['fail'], ['hang'], ['late']])(
    'answers 503 when the claim does not succeed in time (%s), and the retry runs the handler once',
    async (fault) => {
      await start();
      store.failNext('claim', fault);
      const event = buildHopEvent('project.updated');
      expect(await deliver(event)).toBe(503);
      expect(handler.started.get(event.id)).toBeUndefined();
      // A late claim is let go when it comes, so the retry need not wait out the lease.
      if (fault === 'late') await sleep(STORE_TIMEOUT_MS * 4);
      expect(await deliver(event)).toBe(204);
      expect(await deliver(event)).toBe(204);
      expect(handler.started.get(event.id)).toBe(1);
    },
  );

  it.each<[Fault]>([['fail'], ['hang']])(
    'acknowledges a handled event when recording it fails all the time (%s), and logs it',
    async (fault) => {
      await start();
      store.failNext('complete', fault, 100);
      const event = buildHopEvent('project.updated');
      expect(await deliver(event)).toBe(204);
      expect(handler.started.get(event.id)).toBe(1);
      // Tried again while the claim lasts (leaseSeconds: 1), then given up on, and logged.
      const logged = `Hop event ${event.id} (project.updated) was handled, but the event store could not record it`;
      await expect.poll(errors, { timeout: 10_000 }).toContain(logged);
    },
  );

  it.each<[Fault]>([['fail'], ['hang'], ['late']])(
    'records a handled event on a later try when the first fails (%s): a redelivery does not run it',
    async (fault) => {
      await start();
      store.failNext('complete', fault, 2);
      const event = buildHopEvent('project.updated');
      expect(await deliver(event)).toBe(204);
      // At once: the redelivery waits on the claim until the record is written.
      expect(await deliver(event)).toBe(204);
      expect(handler.started.get(event.id)).toBe(1);
      expect(errors()).not.toContain('could not record it');
    },
  );

  it('gives a handled event the store refused a last try at being recorded when the app shuts down', async () => {
    await start();
    store.failNext('complete', 'hang');
    const event = buildHopEvent('project.updated');
    const answer = deliver(event);
    await expect.poll(() => handler.started.get(event.id), { timeout: 10_000 }).toBe(1);
    // Shutting down while the record waits on the store: once it times out, it is tried again
    // at once rather than after a pause, and the shutdown waits for that try.
    const { logger } = server;
    const closing = server.close();
    expect(await answer).toBe(204);
    await closing;
    server = undefined as never;
    expect(await store.claim(event.id, 1_000)).toBe('completed');
    expect(logger.lines('error').join('\n')).not.toContain('could not record it');
  });

  it('keeps many handled events the store refuses trying again without a listener warning', async () => {
    await start();
    store.failNext('complete', 'fail', 1_000);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const events = Array.from({ length: 12 }, () => buildHopEvent('project.updated'));
      expect(await Promise.all(events.map(deliver))).toEqual(events.map(() => 204));
      // Each is in its first pause before trying again; a warning would have been emitted.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it.each<[Fault]>([['fail'], ['hang'], ['late']])(
    'answers 503 when releasing a failed delivery does not succeed in time (%s); a retry runs it',
    async (fault) => {
      await start();
      handler.failing = true;
      store.failNext('release', fault);
      const event = buildHopEvent('project.updated');
      expect(await deliver(event)).toBe(503);
      handler.failing = false;
      // The claim was not released in time: a retry waits until it is (late) or lapses
      // (leaseSeconds: 1), then runs.
      let status = await deliver(event);
      for (let attempt = 0; status !== 204 && attempt < 10; attempt++)
        status = await deliver(event);
      expect(status).toBe(204);
      expect(handler.started.get(event.id)).toBe(2);
      expect(await deliver(event)).toBe(204);
      expect(handler.started.get(event.id)).toBe(2);
    },
  );
});
