import { isWholeNumber, MAX_TIMER_MS } from '../../core/checks.js';
import { ApiFailure } from './answer.js';
import type { HopEmulatorFailureOptions } from './api-emulator-options.interface.js';

const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'rate_limited',
  500: 'internal_server_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

interface QueuedFault<T> {
  remaining: number;
  fault: T;
}

/**
 * The failures and delays queued by {@link HopApiEmulator.failNext} and
 * {@link HopApiEmulator.delayNext}, each used up one API request at a time, oldest first.
 */
export class EmulatorFaults {
  private failures: QueuedFault<ApiFailure>[] = [];
  private delays: QueuedFault<number>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Queues `status` in Hop's error envelope for the next `count` API requests. */
  failNext(count: number, status: number, options: HopEmulatorFailureOptions): void {
    checkCount(count, 'failNext');
    if (!isWholeNumber(status, 400, 599)) {
      throw new RangeError(
        `failNext: status must be an HTTP error status (400-599), got ${status}`,
      );
    }
    const { retryAfterSeconds } = options;
    if (retryAfterSeconds !== undefined && !isWholeNumber(retryAfterSeconds, 0)) {
      throw new RangeError(
        `failNext: retryAfterSeconds must be a whole number of seconds >= 0, got ${retryAfterSeconds}`,
      );
    }
    const failure = new ApiFailure(
      status,
      options.code ?? CODE_BY_STATUS[status] ?? 'emulated_failure',
      options.message ?? `Failure injected by the emulator (failNext): ${status}`,
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    );
    this.failures.push({ remaining: count, fault: failure });
  }

  /** Queues a hold of `ms` milliseconds before each of the next `count` API answers. */
  delayNext(count: number, ms: number): void {
    checkCount(count, 'delayNext');
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
      throw new RangeError(
        `delayNext: ms must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${ms}`,
      );
    }
    this.delays.push({ remaining: count, fault: ms });
  }

  /**
   * Applies the faults queued for one API request: waits out its delay, if any, then returns
   * the failure to answer with instead of handling it, if any.
   */
  async next(): Promise<ApiFailure | undefined> {
    const delay = takeFault(this.delays);
    if (delay !== undefined) await this.wait(delay);
    return takeFault(this.failures);
  }

  /** Forgets every pending failure and delay. */
  clear(): void {
    this.failures = [];
    this.delays = [];
  }

  /** Stops the delays under way: the server is closing and drops their connections. */
  cancelTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function checkCount(count: number, method: string): void {
  if (!isWholeNumber(count, 1)) {
    throw new RangeError(`${method}: count must be a whole number >= 1, got ${count}`);
  }
}

/** The oldest queued fault, used up one request at a time. */
function takeFault<T>(queue: QueuedFault<T>[]): T | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.remaining -= 1;
  if (head.remaining === 0) queue.shift();
  return head.fault;
}
