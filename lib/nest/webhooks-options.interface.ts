import type { VERSION_NEUTRAL } from '@nestjs/common';
import type { HopEventStore } from '../stores/event.store.js';
import type { HopSecrets } from '../core/signature.js';
import type { HopEvent } from '../core/event.types.js';

/** Options of `HopWebhooksModule.forRoot` / `forRootAsync`. */
export interface HopWebhooksModuleOptions {
  /**
   * The webhook secret (`whsec_…`) Hop showed when the webhook was created, or several
   * secrets while rotating: a delivery signed with any of them is accepted. Not needed (and
   * better not given) in a process registered with `receive: false`.
   */
  secret?: HopSecrets;
  /**
   * Verified events are re-emitted on `EventEmitter2` as `<eventPrefix>.<event name>`, so a
   * plain `@OnEvent('hop.ignite.deployment.build.updated')` receives them too.
   * @default 'hop'
   */
  eventPrefix?: string;
  /**
   * `'startup'` logs the wired handlers and configuration warnings; `'deliveries'` also logs
   * every delivery (event id, name, handler count); `false` logs only failures.
   * Handler failures and configuration errors are always logged.
   * @default 'startup'
   */
  logging?: HopWebhooksLogging;
  /**
   * Runs each event's handlers once however often Hop delivers it: a delivery whose `id`
   * was already handled successfully is acknowledged without running them. `false` turns
   * this off (every delivery runs the handlers).
   * @default in-memory store of the last 10,000 ids, kept one day
   */
  idempotency?: HopIdempotencyOptions | false;
  /**
   * Refuses (422) a verified event whose `occurred_at` is older than this many seconds, or
   * further in the future than `clockSkewSeconds`: a captured delivery cannot be replayed
   * later. Off by default, since Hop may legitimately retry an old event after an outage.
   */
  maxEventAgeSeconds?: number;
  /**
   * How far in the future `occurred_at` may be, for `maxEventAgeSeconds`.
   * @default 60
   */
  clockSkewSeconds?: number;
  /**
   * A handler still running after this many milliseconds counts as failed (the delivery is
   * answered 500 and Hop retries); the handler itself is not cancelled. Off by default.
   */
  handlerTimeoutMs?: number;
  /**
   * The most bytes the webhook route reads of a body: a larger one is answered 413, before
   * reading when its `Content-Length` says so. The route reads its body itself, whatever the
   * app's body parser and its limits.
   * @default 1_048_576 (1 MiB)
   */
  bodyLimit?: number;
  /**
   * Queue mode: a verified delivery is added to this BullMQ queue and answered 204 once Redis
   * has it; the `@OnHopEvent` handlers run in BullMQ workers (this process's, unless
   * `queue.worker` is `false`, and any worker-only process's), with retries.
   * Off by default: the handlers run inside Hop's request.
   */
  queue?: HopQueueOptions;
  /**
   * Access to Hop's API, for `HopWebhooksService` (list, create, edit, delete webhooks,
   * regenerate secrets, sync subscriptions). Without it the service's calls throw.
   */
  api?: HopApiOptions;
}

/**
 * The part of a BullMQ `Queue` the module uses (a `Queue` of BullMQ 5 or 6, e.g. from
 * `@nestjs/bullmq`'s `BullModule.registerQueue`, satisfies it); typed here so that apps without
 * BullMQ need not install it.
 */
export interface HopQueue {
  readonly name: string;
  readonly opts: { readonly connection?: unknown; readonly prefix?: string };
  add(name: string, data: HopQueueJobData, options: HopQueueJobOptions): Promise<unknown>;
  /** For the health indicator: one round trip to the queue's Redis. */
  getJobCounts(...states: 'waiting'[]): Promise<Record<string, number>>;
}

/** The options the module gives BullMQ with each job. */
export interface HopQueueJobOptions {
  jobId: string;
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delay: number };
  removeOnComplete: { age: number };
  removeOnFail: { age: number } | false;
}

/** A delivery's job: the verified event, and what went wrong in earlier attempts. */
export interface HopQueueJobData {
  /** The verified event, as Hop sent it. */
  readonly event: HopEvent<string>;
  /** One entry per failed attempt: which handlers failed, and why. */
  readonly failures?: readonly HopQueueJobFailure[];
  /**
   * The delivery's trace context (W3C `traceparent`), when the app traces: the worker's
   * handler spans continue the receiver's trace.
   */
  readonly traceContext?: Readonly<Record<string, string>>;
}

/** See {@link HopQueueJobData.failures}. */
export interface HopQueueJobFailure {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * What failed and its error: each handler (`Class.method`), the app's `@OnEvent` listeners
   * (`hop.<event> listeners`), or the `idempotency store`.
   */
  readonly failed: readonly { readonly handler: string; readonly error: string }[];
  /** ISO-8601. */
  readonly at: string;
}

/** See {@link HopWebhooksModuleOptions.queue}. */
export interface HopQueueOptions {
  /** Your BullMQ queue (and so its connection): `@InjectQueue('hop')` or `new Queue('hop', { connection })`. */
  queue: HopQueue;
  /**
   * Runs a BullMQ worker on the queue in this process, with these settings; `false` receives
   * only (another process runs the handlers).
   * @default {} (a worker with concurrency 10)
   */
  worker?: HopQueueWorkerOptions | false;
  /**
   * How many times a job is tried before it stays in BullMQ's failed set.
   * @default 5
   */
  attempts?: number;
  /**
   * The pause before each retry: `exponential` doubles `delayMs` each time. `delayMs` is in
   * milliseconds (BullMQ's own option is `delay`) and is 1_000 when left out.
   * @default { type: 'exponential', delayMs: 1_000 }
   */
  backoff?: { type: 'exponential' | 'fixed'; delayMs?: number };
  /**
   * How long a completed job (and so its event id) is kept: a redelivery of the event within
   * this time adds nothing. After it, a redelivery runs the handlers again, unless
   * `idempotency.store` (a shared one, such as Redis) remembers the id longer.
   * @default 86_400 (one day)
   */
  keepCompletedSeconds?: number;
  /**
   * How long a job that exhausted its attempts stays in the failed set; `false`: until you
   * remove or retry it.
   * @default false
   */
  keepFailedSeconds?: number | false;
  /**
   * How long adding a job may take, in milliseconds: without Redis's answer in time the
   * delivery is answered 503, and Hop retries it.
   * @default 2_000
   */
  addTimeoutMs?: number;
}

/** See {@link HopQueueOptions.worker}: BullMQ's `WorkerOptions` of the same names. */
export interface HopQueueWorkerOptions {
  /** Jobs run at once by this process. @default 10 */
  concurrency?: number;
  /** How long a job's lock lasts without renewal (a dead worker's job waits this long). @default 30_000 */
  lockDurationMs?: number;
  /** How often stalled jobs (their worker died) are looked for. @default 30_000 */
  stalledIntervalMs?: number;
  /** How many times a job may stall before it is failed. @default 1 */
  maxStalledCount?: number;
}

/** See {@link HopWebhooksModuleOptions.api}. */
export interface HopApiOptions {
  /**
   * A project token (`ptk_…`, the project is implied) or a personal access token (`pat_…`)
   * or bearer token (`bearer_…`), which need `projectId`.
   */
  token: string;
  /** The project (`project_…`) whose webhooks to manage; required unless `token` is `ptk_…`. */
  projectId?: string;
  /** @default 'https://api.hop.io' (a `HopApiEmulator`'s `url` in tests) */
  baseUrl?: string;
  /** Per request. @default 10_000 */
  timeoutMs?: number;
  /**
   * Retries of a GET, PATCH or DELETE answered 429, 502, 503 or 504 (or not answered at all),
   * with exponential backoff or the answer's `Retry-After`. POST is never retried.
   * @default 3
   */
  maxRetries?: number;
}

/** See {@link HopWebhooksModuleOptions.idempotency}. */
export interface HopIdempotencyOptions {
  /**
   * Where handled ids are recorded. Give a shared store (e.g. `RedisHopEventStore`) when
   * several instances of the app receive webhooks.
   * @default new InMemoryHopEventStore({ capacity, ttlSeconds })
   */
  store?: HopEventStore;
  /** How many ids the default in-memory store remembers, at most 16,777,216. @default 10_000 */
  capacity?: number;
  /** How long the default in-memory store remembers an id, in seconds. @default 86_400 */
  ttlSeconds?: number;
  /**
   * How long a claim on an event lasts while its handlers run, in seconds: a concurrent
   * duplicate waits at most this long for the outcome, and an instance that died mid-way
   * blocks the event no longer than this.
   * @default 300
   */
  leaseSeconds?: number;
  /**
   * How long one call to the store (claim, complete, release) may take, in milliseconds. A
   * claim or release without an answer in time is answered 503, for Hop to retry, whatever
   * the client's own retry settings (`new Redis(url)` waits for as long as Redis is down).
   * @default 2_000
   */
  storeTimeoutMs?: number;
}

/** See {@link HopWebhooksModuleExtras.version}: what Nest's `@Controller({ version })` takes. */
export type HopWebhooksRouteVersion =
  string | typeof VERSION_NEUTRAL | readonly (string | typeof VERSION_NEUTRAL)[];

/** See {@link HopWebhooksModuleOptions.logging}. */
export type HopWebhooksLogging = 'startup' | 'deliveries' | false;

/**
 * Options that shape the module itself: known when the module is imported, so in
 * `forRootAsync` they stand beside `useFactory`, not in what it returns.
 */
export interface HopWebhooksModuleExtras {
  /** Register the module globally, so its guard and config are available everywhere. */
  isGlobal?: boolean;
  /**
   * Where Hop's `POST` is received, relative to the app's global prefix.
   * @default 'hop/webhook'
   */
  path?: string;
  /**
   * The route's version, for apps that call `app.enableVersioning()`. Hop posts to the URL
   * the webhook was registered with and sends no version header, so by default the route
   * answers whatever versioning the app uses, at its path without a version.
   * @default VERSION_NEUTRAL
   */
  version?: HopWebhooksRouteVersion;
  /**
   * `false` for a process that runs queued deliveries' handlers but receives none: no webhook
   * route, and no `secret` needed. Only with `queue`.
   * @default true
   */
  receive?: boolean;
  /**
   * Class decorators applied to the webhook controller, e.g. the app's own `@Public()` marker
   * so that a global authentication guard lets Hop's requests through.
   * @default []
   */
  decorators?: ClassDecorator[];
}
