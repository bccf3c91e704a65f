import { DEFAULT_EVENT_PREFIX } from './constants.js';
import type { ResolvedHopApiConfig } from '../api/api.client.js';
import type { HopEventStore } from '../stores/event.store.js';
import { resolveHopQueueConfig, type ResolvedHopQueueConfig } from './queue.config.js';
import { InMemoryHopEventStore } from '../stores/memory-event.store.js';
import { HopConfigurationError } from '../core/errors.js';
import { normalizeHopSecrets } from '../core/signature.js';
import { isHttpUrl, isWholeNumber, MAX_TIMER_MS } from '../core/checks.js';
import { DOTTED_NAME_FORMAT } from '../core/event-pattern.js';
import { HOP_PROJECT_ID_FORMAT, hopTokenKind } from '../api/api.formats.js';
import type {
  HopApiOptions,
  HopWebhooksLogging,
  HopWebhooksModuleOptions,
} from './webhooks-options.interface.js';

/** The module's options, checked once at startup, with every default filled in. */
export interface ResolvedHopWebhooksConfig {
  /** Whether this registration has a webhook route (`receive: false`: it only runs jobs). */
  readonly receive: boolean;
  readonly secrets: readonly string[];
  readonly eventPrefix: string;
  readonly logging: HopWebhooksLogging;
  /** `null` when idempotency is off. */
  readonly store: HopEventStore | null;
  readonly leaseMs: number;
  /** How long any one store call may take before the delivery gives up on it. */
  readonly storeTimeoutMs: number;
  /** `null` when replay protection is off. */
  readonly maxEventAgeMs: number | null;
  readonly clockSkewMs: number;
  /** `null` when handlers may run as long as they like. */
  readonly handlerTimeoutMs: number | null;
  /** The most bytes the webhook route reads of a body. */
  readonly bodyLimit: number;
  /** `null` when `api` is not configured. */
  readonly api: ResolvedHopApiConfig | null;
  /** `null` unless queue mode is on. */
  readonly queue: ResolvedHopQueueConfig | null;
}

// A Redis round trip takes a millisecond: a store silent for 2 s is down, and Hop should retry.
const DEFAULT_STORE_TIMEOUT_MS = 2_000;
// Hop's largest events are a few kilobytes; Fastify's default limit, and far above Express's.
const DEFAULT_BODY_LIMIT = 1_048_576;
const OPTION_KEYS: ReadonlySet<string> = new Set([
  'secret',
  'eventPrefix',
  'logging',
  'idempotency',
  'maxEventAgeSeconds',
  'clockSkewSeconds',
  'handlerTimeoutMs',
  'bodyLimit',
  'api',
  'queue',
]);
// Options of forRoot that shape the module: in forRootAsync they stand beside useFactory.
const MODULE_SHAPING_HINTS: Readonly<Record<string, string>> = Object.fromEntries(
  ['path', 'version', 'decorators', 'isGlobal', 'receive'].map((key) => [
    key,
    `\`${key}\` shapes the module, so in forRootAsync it stands beside useFactory, not in what the factory returns`,
  ]),
);

const LOGGING_VALUES: readonly unknown[] = ['startup', 'deliveries', false];

/**
 * Validates the options so that a misconfiguration stops the app at startup, naming the
 * option, instead of answering every delivery with 401. A process that does not `receive`
 * needs no secret.
 */
export function resolveHopWebhooksConfig(
  options: HopWebhooksModuleOptions | undefined,
  receive = true,
): ResolvedHopWebhooksConfig {
  if (typeof options !== 'object' || options === null) {
    fail(
      'options are missing: pass the webhook secret, e.g. forRoot({ secret: process.env.HOP_WEBHOOK_SECRET })',
    );
  }
  refuseUnknownKeys(options, OPTION_KEYS, '', MODULE_SHAPING_HINTS);
  if (!receive && options.queue === undefined) {
    fail('`receive: false` is for a process that runs queued deliveries: it needs `queue`');
  }
  if (!receive && options.queue?.worker === false) {
    fail(
      '`receive: false` with `queue.worker: false` neither receives nor runs deliveries: drop one of them',
    );
  }
  let secrets: readonly string[] = [];
  try {
    if (receive || options.secret !== undefined) {
      secrets = normalizeHopSecrets(options.secret, 'secret');
    }
  } catch (error) {
    fail((error as Error).message);
  }
  const eventPrefix = options.eventPrefix ?? DEFAULT_EVENT_PREFIX;
  const logging = options.logging ?? 'startup';
  if (typeof eventPrefix !== 'string' || !DOTTED_NAME_FORMAT.test(eventPrefix)) {
    fail('`eventPrefix` must be a non-empty dot-separated name without wildcards, e.g. "hop"');
  }
  if (!LOGGING_VALUES.includes(logging)) {
    fail(`\`logging\` must be 'startup', 'deliveries' or false, got ${JSON.stringify(logging)}`);
  }
  const idempotency = options.idempotency ?? {};
  if (idempotency !== false && (typeof idempotency !== 'object' || idempotency === null)) {
    fail(
      '`idempotency` must be an object ({ store, capacity, ttlSeconds, leaseSeconds, storeTimeoutMs }) or false',
    );
  }
  if (idempotency && idempotency.store !== undefined) {
    if (!isStore(idempotency.store)) {
      fail('`idempotency.store` must implement HopEventStore (claim, complete, release)');
    }
    if (idempotency.capacity !== undefined || idempotency.ttlSeconds !== undefined) {
      fail(
        '`idempotency.capacity` and `ttlSeconds` configure the default in-memory store: with your own `store`, configure it instead',
      );
    }
  }
  let store: HopEventStore | null = null;
  if (idempotency) {
    try {
      store =
        idempotency.store ??
        new InMemoryHopEventStore({
          capacity: idempotency.capacity,
          ttlSeconds: idempotency.ttlSeconds,
        });
    } catch (error) {
      fail(`\`idempotency\`: ${(error as Error).message}`);
    }
  }
  return {
    receive,
    secrets,
    eventPrefix,
    logging,
    store,
    leaseMs: seconds(
      idempotency ? idempotency.leaseSeconds : undefined,
      'idempotency.leaseSeconds',
      300,
    ),
    storeTimeoutMs:
      idempotency && idempotency.storeTimeoutMs !== undefined
        ? timerMs(
            positive(idempotency.storeTimeoutMs, 'idempotency.storeTimeoutMs'),
            'idempotency.storeTimeoutMs',
          )
        : DEFAULT_STORE_TIMEOUT_MS,
    maxEventAgeMs:
      options.maxEventAgeSeconds === undefined
        ? null
        : positive(options.maxEventAgeSeconds, 'maxEventAgeSeconds', 1000),
    clockSkewMs: seconds(options.clockSkewSeconds, 'clockSkewSeconds', 60, true),
    api: options.api === undefined ? null : resolveApi(options.api),
    queue: options.queue === undefined ? null : resolveHopQueueConfig(options.queue),
    bodyLimit: bodyLimit(options.bodyLimit),
    handlerTimeoutMs:
      options.handlerTimeoutMs === undefined
        ? null
        : timerMs(positive(options.handlerTimeoutMs, 'handlerTimeoutMs'), 'handlerTimeoutMs'),
  };
}

function resolveApi(api: HopApiOptions): ResolvedHopApiConfig {
  if (typeof api !== 'object' || api === null) {
    fail('`api` must be an object: { token, projectId?, baseUrl? }');
  }
  const { token, projectId } = api;
  if (typeof token !== 'string' || token === '') {
    fail(
      '`api.token` is missing: give a Hop project token (ptk_…) or personal access token (pat_…)',
    );
  }
  const kind = hopTokenKind(token);
  if (kind === undefined) {
    // The token itself is never part of a message.
    fail(
      '`api.token` is not a Hop token: expected a project token (ptk_…), personal access token (pat_…) or bearer token (bearer_…)',
    );
  }
  if (
    projectId !== undefined &&
    (typeof projectId !== 'string' || !HOP_PROJECT_ID_FORMAT.test(projectId))
  ) {
    fail('`api.projectId` must be a project id such as project_MTY1MjU5NTk1NTAwNTY4NTc3');
  }
  if (kind !== 'ptk' && projectId === undefined) {
    fail(
      `\`api.projectId\` is required with a ${kind}_ token, which is not tied to one project: give the project id (project_…)`,
    );
  }
  const baseUrl = api.baseUrl ?? 'https://api.hop.io';
  if (!isHttpUrl(baseUrl) || hasCredentialsOrQuery(baseUrl)) {
    fail(
      '`api.baseUrl` must be an absolute http(s) URL without credentials, query or fragment, such as https://api.hop.io',
    );
  }
  const maxRetries = api.maxRetries ?? 3;
  if (!isWholeNumber(maxRetries, 0)) {
    fail(
      `\`api.maxRetries\` must be a whole number of 0 or more, got ${JSON.stringify(maxRetries)}`,
    );
  }
  return {
    token,
    project: kind === 'ptk' ? '@this' : (projectId as string),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    timeoutMs:
      api.timeoutMs === undefined
        ? 10_000
        : timerMs(positive(api.timeoutMs, 'api.timeoutMs'), 'api.timeoutMs'),
    maxRetries,
  };
}

function seconds(value: unknown, option: string, fallback: number, zeroAllowed = false): number {
  if (value === undefined) return fallback * 1000;
  if (zeroAllowed && value === 0) return 0;
  return timerMs(positive(value, option, 1000), option);
}

/** A positive finite number, times `scale`, rounded up to whole milliseconds. */
function positive(value: unknown, option: string, scale = 1): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`\`${option}\` must be a positive number, got ${JSON.stringify(value)}`);
  }
  // Whole milliseconds: Redis refuses `PX 4019.9999999999995` (from 4.02 s).
  return Math.ceil(value * scale);
}

/** `ms`, if a Node timer can wait that long; stops the app naming `option` otherwise. */
export function timerMs(ms: number, option: string): number {
  if (ms > MAX_TIMER_MS) {
    fail(`\`${option}\` is longer than a Node timer can wait (about 24.8 days)`);
  }
  return ms;
}

function bodyLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_BODY_LIMIT;
  if (!isWholeNumber(value, 1)) {
    fail(`\`bodyLimit\` must be a positive whole number of bytes, got ${JSON.stringify(value)}`);
  }
  return value;
}

function isStore(value: unknown): value is HopEventStore {
  const store = value as Partial<HopEventStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.claim === 'function' &&
    typeof store.complete === 'function' &&
    typeof store.release === 'function'
  );
}

/** Stops the app at startup with a message naming the option. */
export function fail(problem: string): never {
  throw new HopConfigurationError(`HopWebhooksModule: ${problem}`);
}

/**
 * Stops the app at the first key of `options` that is not one of `known` (`prefix` names
 * where it is, e.g. `queue.`), saying what was meant when `hints` knows.
 */
export function refuseUnknownKeys(
  options: object,
  known: ReadonlySet<string>,
  prefix: string,
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const hint = Object.hasOwn(hints, key) ? `: ${hints[key]}` : '';
    fail(`unknown option \`${prefix}${key}\`${hint}`);
  }
}

/**
 * Whether a URL carries a user, password, query or fragment, which no API base URL has (the
 * raw text tells an empty `?` or `#`, which `URL` reports as none).
 */
function hasCredentialsOrQuery(url: string): boolean {
  const { username, password } = new URL(url);
  return username !== '' || password !== '' || /[?#]/.test(url);
}
