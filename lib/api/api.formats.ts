import { isJsonObject } from '../core/checks.js';

/**
 * The shapes of Hop's ids and tokens, as the module's options, `HopWebhooksService` and the
 * API emulator check them.
 */

/** A project token (`ptk_…`), personal access token (`pat_…`) or bearer token (`bearer_…`). */
export const HOP_TOKEN_FORMAT = /^(ptk|pat|bearer)_[A-Za-z0-9_-]+$/;

/** The kind of a Hop token (`ptk`, `pat` or `bearer`), or `undefined` if it is none. */
export function hopTokenKind(token: string): 'ptk' | 'pat' | 'bearer' | undefined {
  return HOP_TOKEN_FORMAT.exec(token)?.[1] as 'ptk' | 'pat' | 'bearer' | undefined;
}

export const HOP_PROJECT_ID_FORMAT = /^project_[A-Za-z0-9_-]+$/;

export const HOP_WEBHOOK_ID_FORMAT = /^webhook_[A-Za-z0-9_-]+$/;

/** The fields of a webhook the module reads, as Hop answers them (the rest is passed on). */
interface HopWebhookFields {
  readonly id: string;
  readonly webhook_url: string;
  readonly events: readonly string[];
  readonly secret: string;
}

function isWebhook(value: unknown): value is HopWebhookFields {
  return (
    isJsonObject(value) &&
    typeof value.id === 'string' &&
    typeof value.webhook_url === 'string' &&
    typeof value.secret === 'string' &&
    Array.isArray(value.events) &&
    value.events.every((name) => typeof name === 'string')
  );
}

/** The `data` of Hop's answer to listing webhooks: `{ webhooks: Webhook[] }`. */
export function isWebhookList<W extends HopWebhookFields>(
  data: unknown,
): data is { webhooks: W[] } {
  return isJsonObject(data) && Array.isArray(data.webhooks) && data.webhooks.every(isWebhook);
}

/** The `data` of Hop's answer to creating or editing a webhook: `{ webhook: Webhook }`. */
export function hasWebhook<W extends HopWebhookFields>(data: unknown): data is { webhook: W } {
  return isJsonObject(data) && isWebhook(data.webhook);
}

/** The `data` of Hop's answer to regenerating a secret: `{ secret }`. */
export function hasSecret(data: unknown): data is { secret: string } {
  return isJsonObject(data) && typeof data.secret === 'string';
}
