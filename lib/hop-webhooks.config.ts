import { DEFAULT_EVENT_PREFIX, DEFAULT_PATH } from './constants.js';
import { HopConfigurationError } from './hop-webhook.errors.js';
import { normalizeHopSecrets } from './hop-signature.js';
import type {
  HopWebhooksLogging,
  HopWebhooksModuleExtras,
  HopWebhooksModuleOptions,
} from './interfaces/hop-webhooks-options.interface.js';

/** The module's options, checked once at startup, with every default filled in. */
export interface ResolvedHopWebhooksConfig {
  readonly secrets: readonly string[];
  readonly eventPrefix: string;
  readonly logging: HopWebhooksLogging;
}

/** Where the webhook controller is mounted, and what it is decorated with. */
export interface ResolvedHopWebhooksRoute {
  readonly path: string;
  readonly decorators: readonly ClassDecorator[];
}

const EVENT_PREFIX_FORMAT = /^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)*$/;
const LOGGING_VALUES: readonly unknown[] = ['startup', 'deliveries', false];

/**
 * Validates the options so that a misconfiguration stops the app at startup, naming the
 * option, instead of answering every delivery with 401.
 */
export function resolveHopWebhooksConfig(
  options: HopWebhooksModuleOptions | undefined,
): ResolvedHopWebhooksConfig {
  if (typeof options !== 'object' || options === null) {
    fail(
      'options are missing: pass the webhook secret, e.g. forRoot({ secret: process.env.HOP_WEBHOOK_SECRET })',
    );
  }
  let secrets: readonly string[];
  try {
    secrets = normalizeHopSecrets(options.secret, 'secret');
  } catch (error) {
    fail((error as Error).message);
  }
  const eventPrefix = options.eventPrefix ?? DEFAULT_EVENT_PREFIX;
  const logging = options.logging ?? 'startup';
  if (typeof eventPrefix !== 'string' || !EVENT_PREFIX_FORMAT.test(eventPrefix)) {
    fail('`eventPrefix` must be a non-empty dot-separated name without wildcards, e.g. "hop"');
  }
  if (!LOGGING_VALUES.includes(logging)) {
    fail(`\`logging\` must be 'startup', 'deliveries' or false, got ${JSON.stringify(logging)}`);
  }
  return { secrets, eventPrefix, logging };
}

/** Validates `path` and `decorators`, which are known when the module is imported. */
export function resolveHopWebhooksRoute(extras: HopWebhooksModuleExtras): ResolvedHopWebhooksRoute {
  const path = extras.path ?? DEFAULT_PATH;
  const decorators = extras.decorators ?? [];
  if (typeof path !== 'string') {
    fail(`\`path\` must be a string, got ${typeof path}`);
  }
  if (!Array.isArray(decorators) || !decorators.every((item) => typeof item === 'function')) {
    fail('`decorators` must be an array of class decorators, e.g. [Public()]');
  }
  return { path: path.replace(/^\/+|\/+$/g, ''), decorators };
}

function fail(problem: string): never {
  throw new HopConfigurationError(`HopWebhooksModule: ${problem}`);
}
