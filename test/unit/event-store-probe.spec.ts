import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryHopEventStore, RedisHopEventStore, type HopRedisClient } from '../../lib/index.js';
import { probeHopEventStore } from '../../lib/stores/event.store.js';
import { PinglessStore } from '../src/pingless-store.js';

const TIMEOUT_MS = 300;

/** A store whose `ping` answers as told, and counts how often it was asked. */
class PingingStore extends PinglessStore {
  pings = 0;
  constructor(private readonly answer: () => Promise<void>) {
    super();
  }
  ping(): Promise<void> {
    this.pings++;
    return this.answer();
  }
}

/** A store in this process's memory that would fail a ping, were it asked. */
class InProcessStore extends PingingStore {
  readonly inProcess = true;
}

describe('probeHopEventStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports idempotency turned off as up, with store none', async () => {
    expect(await probeHopEventStore(null, TIMEOUT_MS)).toEqual({ store: 'none', status: 'up' });
  });

  it('reports a store in this process as up without pinging it', async () => {
    expect(await probeHopEventStore(new InMemoryHopEventStore(), TIMEOUT_MS)).toEqual({
      store: 'InMemoryHopEventStore',
      status: 'up',
    });
    const store = new InProcessStore(() => Promise.reject(new Error('must not be asked')));
    expect(await probeHopEventStore(store, TIMEOUT_MS)).toEqual({
      store: 'InProcessStore',
      status: 'up',
    });
    expect(store.pings).toBe(0);
  });

  it('reports a store without ping as unchecked, by its class name', async () => {
    expect(await probeHopEventStore(new PinglessStore(), TIMEOUT_MS)).toEqual({
      store: 'PinglessStore',
      status: 'unchecked',
    });
  });

  it('reports a store whose ping answers as up, having pinged it once', async () => {
    const store = new PingingStore(() => Promise.resolve());
    expect(await probeHopEventStore(store, TIMEOUT_MS)).toEqual({
      store: 'PingingStore',
      status: 'up',
    });
    expect(store.pings).toBe(1);
  });

  it('reports a store whose ping rejects as down, with the rejection message', async () => {
    const store = new PingingStore(() => Promise.reject(new Error('connect ECONNREFUSED')));
    expect(await probeHopEventStore(store, TIMEOUT_MS)).toEqual({
      store: 'PingingStore',
      status: 'down',
      error: 'connect ECONNREFUSED',
    });
    expect(store.pings).toBe(1);
  });

  it('reports a ping that throws at once, or rejects with a non-Error, as down', async () => {
    const throwing = new PingingStore(() => {
      throw new Error('client closed');
    });
    expect(await probeHopEventStore(throwing, TIMEOUT_MS)).toEqual({
      store: 'PingingStore',
      status: 'down',
      error: 'client closed',
    });
    const rejecting = new PingingStore(() => Promise.reject('NOAUTH'));
    expect(await probeHopEventStore(rejecting, TIMEOUT_MS)).toEqual({
      store: 'PingingStore',
      status: 'down',
      error: 'NOAUTH',
    });
  });

  it('reports a ping that never answers as down once the timeout passed, and clears its timer', async () => {
    vi.useFakeTimers();
    const store = new PingingStore(() => new Promise<never>(() => undefined));
    let outcome: Awaited<ReturnType<typeof probeHopEventStore>> | undefined;
    const probing = probeHopEventStore(store, TIMEOUT_MS).then((probe) => (outcome = probe));

    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await probing;
    expect(outcome).toEqual({
      store: 'PingingStore',
      status: 'down',
      error: `no answer within ${TIMEOUT_MS} ms`,
    });
    expect(store.pings).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pings a RedisHopEventStore through its client: one PING per probe', async () => {
    let pings = 0;
    let answer: () => Promise<unknown> = () => Promise.resolve('PONG');
    const client: HopRedisClient = {
      set: () => Promise.resolve('OK'),
      get: () => Promise.resolve(null),
      eval: () => Promise.resolve(0),
      ping: () => {
        pings++;
        return answer();
      },
    };
    const store = new RedisHopEventStore(client);
    expect(await probeHopEventStore(store, TIMEOUT_MS)).toEqual({
      store: 'RedisHopEventStore',
      status: 'up',
    });
    answer = () => Promise.reject(new Error('Connection is closed.'));
    expect(await probeHopEventStore(store, TIMEOUT_MS)).toEqual({
      store: 'RedisHopEventStore',
      status: 'down',
      error: 'Connection is closed.',
    });
    expect(pings).toBe(2);
  });
});
