import { isWholeNumber } from '../core/checks.js';
import { fail, refuseUnknownKeys, timerMs } from './webhooks.config.js';
import type {
  HopQueue,
  HopQueueJobOptions,
  HopQueueOptions,
  HopQueueWorkerOptions,
} from './webhooks-options.interface.js';

/** Queue mode's options, checked at startup, with every default filled in. */
export interface ResolvedHopQueueConfig {
  readonly queue: HopQueue;
  /** `null` when this process only receives. */
  readonly worker: Readonly<Required<HopQueueWorkerOptions>> | null;
  /** What each job is added with, but its id (the event id). */
  readonly jobOptions: Readonly<Omit<HopQueueJobOptions, 'jobId'>>;
  readonly addTimeoutMs: number;
}

const QUEUE_KEYS: ReadonlySet<string> = new Set([
  'queue',
  'worker',
  'attempts',
  'backoff',
  'keepCompletedSeconds',
  'keepFailedSeconds',
  'addTimeoutMs',
]);
const WORKER_KEYS: ReadonlySet<string> = new Set([
  'concurrency',
  'lockDurationMs',
  'stalledIntervalMs',
  'maxStalledCount',
]);
const BACKOFF_KEYS: ReadonlySet<string> = new Set(['type', 'delayMs']);
// BullMQ's own options spell the pause `delay`: the likeliest slip when copying its docs.
const BACKOFF_HINTS: Readonly<Record<string, string>> = {
  delay: 'the pause is `queue.backoff.delayMs`, in milliseconds',
};

/** Validates `queue`, naming the option at fault. */
export function resolveHopQueueConfig(options: HopQueueOptions): ResolvedHopQueueConfig {
  if (typeof options !== 'object' || options === null) {
    fail('`queue` must be an object: { queue, worker?, attempts?, backoff?, … }');
  }
  refuseUnknownKeys(options, QUEUE_KEYS, 'queue.');
  const { queue } = options;
  if (
    typeof queue?.add !== 'function' ||
    typeof queue.getJobCounts !== 'function' ||
    typeof queue.name !== 'string' ||
    typeof queue.opts !== 'object'
  ) {
    fail(
      "`queue.queue` must be a BullMQ Queue: @InjectQueue('hop') with @nestjs/bullmq, or new Queue('hop', { connection })",
    );
  }
  // Only a missing option takes its default: `null` is refused below, naming the option.
  const keepFailed = options.keepFailedSeconds === undefined ? false : options.keepFailedSeconds;
  return {
    queue,
    worker:
      options.worker === false
        ? null
        : resolveWorker(options.worker === undefined ? {} : options.worker),
    jobOptions: {
      attempts: whole(options.attempts, 'queue.attempts', 5),
      backoff: resolveBackoff(options.backoff),
      removeOnComplete: {
        age: whole(options.keepCompletedSeconds, 'queue.keepCompletedSeconds', 86_400),
      },
      removeOnFail:
        keepFailed === false ? false : { age: whole(keepFailed, 'queue.keepFailedSeconds', 0) },
    },
    addTimeoutMs: milliseconds(options.addTimeoutMs, 'queue.addTimeoutMs', 2_000),
  };
}

function resolveWorker(worker: HopQueueWorkerOptions): Required<HopQueueWorkerOptions> {
  if (typeof worker !== 'object' || worker === null) {
    fail('`queue.worker` must be an object ({ concurrency?, … }) or false');
  }
  refuseUnknownKeys(worker, WORKER_KEYS, 'queue.worker.');
  return {
    concurrency: whole(worker.concurrency, 'queue.worker.concurrency', 10),
    lockDurationMs: milliseconds(worker.lockDurationMs, 'queue.worker.lockDurationMs', 30_000),
    stalledIntervalMs: milliseconds(
      worker.stalledIntervalMs,
      'queue.worker.stalledIntervalMs',
      30_000,
    ),
    maxStalledCount: whole(worker.maxStalledCount, 'queue.worker.maxStalledCount', 1, 0),
  };
}

/** Without `backoff`, or without its `delayMs`, the first retry waits 1 s. */
function resolveBackoff(backoff: unknown = { type: 'exponential' }): HopQueueJobOptions['backoff'] {
  if (typeof backoff !== 'object' || backoff === null) {
    fail("`queue.backoff` must be an object: { type: 'exponential' | 'fixed', delayMs? }");
  }
  refuseUnknownKeys(backoff, BACKOFF_KEYS, 'queue.backoff.', BACKOFF_HINTS);
  const { type, delayMs } = backoff as { type?: unknown; delayMs?: unknown };
  if (type !== 'exponential' && type !== 'fixed') {
    fail(`\`queue.backoff.type\` must be 'exponential' or 'fixed', got ${JSON.stringify(type)}`);
  }
  return { type, delay: whole(delayMs, 'queue.backoff.delayMs', 1_000, 0) };
}

/** A positive whole number of milliseconds that a Node timer can wait, or its default. */
function milliseconds(value: unknown, option: string, fallback: number): number {
  return timerMs(whole(value, option, fallback), option);
}

/** A whole-number option from `min` (default 1), or its default. */
function whole(value: unknown, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!isWholeNumber(value, min)) {
    fail(`\`${option}\` must be a whole number from ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}
