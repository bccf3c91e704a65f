import { isHttpUrl } from '../core/checks.js';
import { HOP_WEBHOOK_ID_FORMAT, hasSecret, hasWebhook, isWebhookList } from '../api/api.formats.js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import { HopApiClient, type HopWebhook } from '../api/api.client.js';
import { HopEventsExplorer } from './events.explorer.js';
import { isHopEventName, type HopEventName } from '../core/events.catalog.js';
import { HopApiError, HopConfigurationError, HopValidationError } from '../core/errors.js';
import { HopWebhookSecrets } from '../core/webhook-secrets.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';

/** What `syncSubscriptions` did, or would do with `dryRun`. */
export interface HopSubscriptionSync {
  /** `create`: no webhook had the URL; `update`: its events differed; `none`: they matched. */
  readonly action: 'create' | 'update' | 'none';
  readonly dryRun: boolean;
  readonly url: string;
  /** The events the app handles: what the webhook subscribes to afterwards. */
  readonly events: readonly HopEventName[];
  readonly added: readonly HopEventName[];
  readonly removed: readonly string[];
  /** The webhook after the change (before it, on a dry run); absent for a dry-run create. */
  readonly webhook?: HopWebhook;
  /**
   * The new webhook's secret, after a create: store it where the app's `secret` comes from.
   * It is accepted by this process's receiver at once.
   */
  readonly secret?: string;
}

/** Options of {@link HopWebhooksService.syncSubscriptions}. */
export interface HopSyncOptions {
  /** Compute the plan without changing anything. */
  dryRun?: boolean;
}

/**
 * Manages the project's Hop webhooks through Hop's API (configured with the module's `api`
 * option). Arguments are checked before any request; failures are {@link HopApiError}s.
 */
@Injectable()
export class HopWebhooksService {
  private readonly logger = new Logger('HopWebhooks');
  private readonly client: HopApiClient | null;

  constructor(
    @Inject(HOP_WEBHOOKS_CONFIG) config: ResolvedHopWebhooksConfig,
    private readonly secrets: HopWebhookSecrets,
    private readonly explorer: HopEventsExplorer,
  ) {
    this.client =
      config.api && new HopApiClient(config.api, (message) => this.logger.warn(message));
  }

  /** Every webhook of the project; secrets are masked. */
  async list(): Promise<HopWebhook[]> {
    const client = this.api();
    const path = client.webhooksPath();
    return (await client.request('GET', path, undefined, isWebhookList<HopWebhook>)).webhooks;
  }

  /** One webhook by id (secret masked); a {@link HopApiError} with status 404 if none. */
  async get(id: string): Promise<HopWebhook> {
    assertWebhookId(id);
    const webhook = (await this.list()).find((candidate) => candidate.id === id);
    if (webhook === undefined) {
      throw new HopApiError(
        404,
        'not_found',
        `no webhook ${id} in this project`,
        'GET',
        this.api().webhooksPath(),
      );
    }
    return webhook;
  }

  /**
   * Creates a webhook delivering `events` to `url`. The result holds the full secret, shown
   * this once: store it. This process's receiver accepts it at once.
   */
  async create(url: string, events: readonly HopEventName[]): Promise<HopWebhook> {
    assertUrl(url);
    assertEvents(events);
    const client = this.api();
    const path = client.webhooksPath();
    const body = { webhook_url: url, events };
    const { webhook } = await client.request('POST', path, body, hasWebhook<HopWebhook>);
    this.acceptSecret(webhook.id, webhook.secret, 'POST', path);
    return webhook;
  }

  /** Changes a webhook's URL and/or events. */
  async edit(
    id: string,
    changes: { url?: string; events?: readonly HopEventName[] },
  ): Promise<HopWebhook> {
    assertWebhookId(id);
    if (changes?.url === undefined && changes?.events === undefined) {
      throw new HopValidationError('edit needs `url` or `events` (or both)');
    }
    if (changes.url !== undefined) assertUrl(changes.url);
    if (changes.events !== undefined) assertEvents(changes.events);
    const client = this.api();
    const { webhook } = await client.request(
      'PATCH',
      client.webhooksPath(id),
      {
        ...(changes.url === undefined ? {} : { webhook_url: changes.url }),
        ...(changes.events === undefined ? {} : { events: changes.events }),
      },
      hasWebhook<HopWebhook>,
    );
    return webhook;
  }

  /** Deletes a webhook: Hop stops delivering to it at once. */
  async delete(id: string): Promise<void> {
    assertWebhookId(id);
    const client = this.api();
    await client.request('DELETE', client.webhooksPath(id));
  }

  /**
   * Gives a webhook a new secret and returns it; the old one stops working at Hop at once.
   * This process's receiver accepts the new secret immediately, but only until it restarts:
   * store it where the app's `secret` option comes from.
   */
  async regenerateSecret(id: string): Promise<string> {
    assertWebhookId(id);
    const client = this.api();
    const path = client.webhooksPath(id, 'regenerate');
    const { secret } = await client.request('POST', path, undefined, hasSecret);
    this.acceptSecret(id, secret, 'POST', path);
    return secret;
  }

  /**
   * Makes Hop's webhook for `url` subscribe to exactly the events this app handles (every
   * `@OnHopEvent` name, wildcards expanded against the catalog): creates it if no webhook has
   * that URL, edits its events if they differ, does nothing if they match. Idempotent.
   */
  async syncSubscriptions(url: string, options: HopSyncOptions = {}): Promise<HopSubscriptionSync> {
    assertUrl(url);
    const dryRun = options.dryRun === true;
    const events = this.explorer.handledEventNames();
    if (events.length === 0) {
      throw new HopValidationError(
        'syncSubscriptions: no @OnHopEvent handler matches a known Hop event',
      );
    }
    // `https://app.example.com/hop` and `…/hop/` are the same endpoint to Hop's callers.
    const target = normalizeUrl(url);
    const matching = (await this.list()).filter(
      (webhook) => normalizeUrl(webhook.webhook_url) === target,
    );
    if (matching.length > 1) {
      this.logger.warn(
        `${matching.length} Hop webhooks deliver to ${url}; syncing ${matching[0]!.id} only`,
      );
    }
    const existing = matching[0];
    if (existing === undefined) {
      const plan = { action: 'create', dryRun, url, events, added: events, removed: [] } as const;
      if (dryRun) return plan;
      const webhook = await this.create(url, events);
      return { ...plan, webhook, secret: webhook.secret };
    }
    const added = events.filter((name) => !existing.events.includes(name));
    const removed = existing.events.filter((name) => !(events as readonly string[]).includes(name));
    if (added.length === 0 && removed.length === 0) {
      return { action: 'none', dryRun, url, events, added, removed, webhook: existing };
    }
    const plan = { action: 'update', dryRun, url, events, added, removed } as const;
    if (dryRun) return { ...plan, webhook: existing };
    return { ...plan, webhook: await this.edit(existing.id, { events }) };
  }

  /** Lets the receiver accept a secret Hop just issued; refuses an answer without one. */
  private acceptSecret(webhookId: unknown, secret: unknown, method: string, path: string): void {
    if (
      typeof webhookId !== 'string' ||
      typeof secret !== 'string' ||
      !secret.startsWith('whsec_') ||
      secret.includes('*')
    ) {
      throw new HopApiError(
        200,
        'invalid_response',
        'the answer has no full webhook secret (whsec_…), so it cannot be accepted',
        method,
        path,
      );
    }
    this.secrets.accept(webhookId, secret);
  }

  private api(): HopApiClient {
    if (this.client === null) {
      throw new HopConfigurationError(
        "HopWebhooksService needs access to Hop's API: add `api: { token }` to the HopWebhooksModule options",
      );
    }
    return this.client;
  }
}

function normalizeUrl(url: string): string {
  return URL.canParse(url) ? new URL(url).href.replace(/\/$/, '') : url;
}

function assertUrl(url: unknown): asserts url is string {
  if (!isHttpUrl(url)) {
    throw new HopValidationError(
      `webhook URL must be an absolute http(s) URL, got ${JSON.stringify(url)}`,
    );
  }
}

function assertEvents(events: unknown): asserts events is readonly HopEventName[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new HopValidationError('events must be a non-empty list of Hop event names');
  }
  const unknown = events.filter((name) => typeof name !== 'string' || !isHopEventName(name));
  if (unknown.length > 0) {
    throw new HopValidationError(
      `events has names Hop does not know: ${unknown.map((name) => JSON.stringify(name)).join(', ')} (see HOP_EVENTS)`,
    );
  }
}

function assertWebhookId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !HOP_WEBHOOK_ID_FORMAT.test(id)) {
    throw new HopValidationError(`webhook id must look like webhook_…, got ${JSON.stringify(id)}`);
  }
}
