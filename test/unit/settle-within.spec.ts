import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settleWithin } from '../../lib/core/settle-within.js';

describe('settleWithin', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a value, or a promise already settled, without arming a timer', async () => {
    vi.useFakeTimers();
    await expect(settleWithin('now', 1_000, 'late')).resolves.toBe('now');
    await expect(settleWithin(Promise.resolve(2), 1_000, 'late')).resolves.toBe(2);
    await expect(settleWithin(Promise.reject(new Error('refused')), 1_000, 'late')).rejects.toThrow(
      'refused',
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers what comes within the limit, and clears its timer', async () => {
    vi.useFakeTimers();
    const answer = settleWithin(sleep(50, 'done'), 1_000, 'late');
    await vi.advanceTimersByTimeAsync(50);
    await expect(answer).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the message once the limit has passed without an answer', async () => {
    vi.useFakeTimers();
    const answer = settleWithin(new Promise(() => undefined), 1_000, 'no answer within 1 s');
    const outcome = expect(answer).rejects.toThrow('no answer within 1 s');
    await vi.advanceTimersByTimeAsync(999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await outcome;
    expect(vi.getTimerCount()).toBe(0);
  });
});
