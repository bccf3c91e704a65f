import { describe, expect, it } from 'vitest';
import { HopConfigurationError } from '../../lib/core/errors.js';
import { resolveHopQueueConfig } from '../../lib/nest/queue.config.js';
import type { HopQueue, HopQueueOptions } from '../../lib/nest/webhooks-options.interface.js';
import { thrownBy } from '../src/thrown-by.js';

// resolveHopQueueConfig only checks the queue's shape; nothing here reaches Redis.
const queue: HopQueue = {
  name: 'hop',
  opts: {},
  add: () => Promise.resolve(undefined),
  getJobCounts: () => Promise.resolve({ waiting: 0 }),
};

function resolve(options: Omit<HopQueueOptions, 'queue'> | Record<string, unknown>) {
  return resolveHopQueueConfig({ queue, ...options } as HopQueueOptions);
}

describe('resolveHopQueueConfig', () => {
  it('fills in the defaults the README lists', () => {
    expect(resolve({})).toStrictEqual({
      queue,
      worker: {
        concurrency: 10,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
        maxStalledCount: 1,
      },
      jobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: { age: 86_400 },
        removeOnFail: false,
      },
      addTimeoutMs: 2_000,
    });
  });

  it('has no worker with worker: false', () => {
    expect(resolve({ worker: false }).worker).toBeNull();
  });

  it.each([
    [{ type: 'exponential' }, { type: 'exponential', delay: 1_000 }],
    [{ type: 'fixed' }, { type: 'fixed', delay: 1_000 }],
    [
      { type: 'fixed', delayMs: 5_000 },
      { type: 'fixed', delay: 5_000 },
    ],
    [
      { type: 'exponential', delayMs: 0 },
      { type: 'exponential', delay: 0 },
    ],
  ])('gives BullMQ backoff %j as %j', (backoff, expected) => {
    expect(resolve({ backoff }).jobOptions.backoff).toStrictEqual(expected);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "BullMQ's own `delay`",
      { backoff: { type: 'fixed', delay: 5_000 } },
      'unknown option `queue.backoff.delay`: the pause is `queue.backoff.delayMs`, in milliseconds',
    ],
    [
      'another unknown backoff option',
      { backoff: { type: 'exponential', delayMs: 1_000, jitter: 0.5 } },
      'unknown option `queue.backoff.jitter`',
    ],
    [
      'an unsupported backoff type',
      { backoff: { type: 'linear', delayMs: 1_000 } },
      "`queue.backoff.type` must be 'exponential' or 'fixed', got \"linear\"",
    ],
    [
      'a backoff without a type',
      { backoff: { delayMs: 1_000 } },
      "`queue.backoff.type` must be 'exponential' or 'fixed', got undefined",
    ],
    [
      'a backoff that is not an object',
      { backoff: 1_000 },
      "`queue.backoff` must be an object: { type: 'exponential' | 'fixed', delayMs? }",
    ],
    [
      'a negative delayMs',
      { backoff: { type: 'fixed', delayMs: -1 } },
      '`queue.backoff.delayMs` must be a whole number from 0, got -1',
    ],
    ['an unknown queue option', { foo: 1 }, 'unknown option `queue.foo`'],
    [
      'a null worker',
      { worker: null },
      '`queue.worker` must be an object ({ concurrency?, … }) or false',
    ],
    [
      'a null keepFailedSeconds',
      { keepFailedSeconds: null },
      '`queue.keepFailedSeconds` must be a whole number from 1, got null',
    ],
    [
      'an unknown worker option',
      { worker: { threads: 2 } },
      'unknown option `queue.worker.threads`',
    ],
  ])('throws HopConfigurationError naming the option for %s', (_case, options, message) => {
    const error = thrownBy(() => resolve(options));

    expect(error).toBeInstanceOf(HopConfigurationError);
    expect(error.message).toBe(`HopWebhooksModule: ${message}`);
  });
});
