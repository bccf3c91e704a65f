import { randomBytes } from 'node:crypto';
import { hopId } from '../delivery.js';
import { ApiFailure } from './answer.js';
import type { HopEmulatorWebhook } from './emulator.types.js';

const SECRET_PREFIX = 'whsec_';

/** The fields a client sets on a webhook. */
export type WebhookFields = Pick<HopEmulatorWebhook, 'webhook_url' | 'events'>;

/**
 * The emulator's webhooks of every project, in creation order. Every webhook handed out is a
 * copy, so a caller's changes never reach the store.
 */
export class EmulatorWebhookStore {
  private readonly byId = new Map<string, HopEmulatorWebhook>();

  /** All webhooks, or those of `projectId`, with their full secrets. */
  list(projectId?: string): HopEmulatorWebhook[] {
    return [...this.byId.values()]
      .filter((webhook) => projectId === undefined || webhook.project_id === projectId)
      .map(copyWebhook);
  }

  /** Webhook `webhookId` of `projectId`, or a `404`: another project's webhook is not found either. */
  get(projectId: string, webhookId: string): HopEmulatorWebhook {
    const webhook = this.byId.get(webhookId);
    if (!webhook || webhook.project_id !== projectId) {
      throw new ApiFailure(
        404,
        'not_found',
        `Webhook ${webhookId} does not exist in project ${projectId}`,
      );
    }
    return copyWebhook(webhook);
  }

  create(projectId: string, fields: WebhookFields): HopEmulatorWebhook {
    const webhook: HopEmulatorWebhook = {
      id: hopId('webhook'),
      project_id: projectId,
      type: 'http',
      webhook_url: fields.webhook_url,
      events: [...fields.events],
      secret: newSecret(),
      created_at: new Date().toISOString(),
    };
    this.byId.set(webhook.id, webhook);
    return copyWebhook(webhook);
  }

  /** Changes a webhook that {@link get} found. */
  edit(webhookId: string, changes: Partial<WebhookFields>): HopEmulatorWebhook {
    const webhook = this.existing(webhookId);
    Object.assign(webhook, changes);
    return copyWebhook(webhook);
  }

  /** Gives a webhook that {@link get} found a new secret and returns it. */
  regenerateSecret(webhookId: string): string {
    const webhook = this.existing(webhookId);
    webhook.secret = newSecret();
    return webhook.secret;
  }

  delete(webhookId: string): void {
    this.byId.delete(webhookId);
  }

  clear(): void {
    this.byId.clear();
  }

  private existing(webhookId: string): HopEmulatorWebhook {
    const webhook = this.byId.get(webhookId);
    if (!webhook) throw new Error(`Webhook ${webhookId} is not stored`);
    return webhook;
  }
}

/** The webhook as Hop lists it: the secret's prefix, then one `*` per hidden character. */
export function maskWebhook(webhook: HopEmulatorWebhook): HopEmulatorWebhook {
  const hidden = webhook.secret.length - SECRET_PREFIX.length;
  return { ...webhook, secret: SECRET_PREFIX + '*'.repeat(hidden) };
}

function copyWebhook(webhook: HopEmulatorWebhook): HopEmulatorWebhook {
  return { ...webhook, events: [...webhook.events] };
}

function newSecret(): string {
  // 24 random bytes are 32 url-safe characters.
  return SECRET_PREFIX + randomBytes(24).toString('base64url');
}
