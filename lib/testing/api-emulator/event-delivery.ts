import { describeError } from '../../core/errors.js';
import { signHopDelivery } from '../delivery.js';
import type {
  HopEmulatorDelivery,
  HopEmulatorEvent,
  HopEmulatorWebhook,
} from './emulator.types.js';

/**
 * Posts `event` to one webhook, with that webhook's `webhook_id` and `project_id`, signed with
 * its secret, once: it resolves with the status, or with why there was none, and never throws.
 */
export async function deliverEvent(
  webhook: HopEmulatorWebhook,
  event: HopEmulatorEvent,
  timeoutMs: number,
): Promise<HopEmulatorDelivery> {
  const envelope = {
    id: event.id,
    event: event.event,
    webhook_id: webhook.id,
    project_id: webhook.project_id,
    occurred_at: event.occurred_at,
    data: event.data,
  };
  const { body, headers } = signHopDelivery(envelope, webhook.secret);
  const target = {
    webhookId: webhook.id,
    projectId: webhook.project_id,
    url: webhook.webhook_url,
  };
  try {
    const response = await fetch(webhook.webhook_url, {
      method: 'POST',
      body,
      headers,
      // Hop posts to the registered URL only; a redirect is reported, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Reading the answer to its end frees the connection for the next delivery.
    await response.arrayBuffer().catch(() => undefined);
    return { ...target, status: response.status };
  } catch (error) {
    return { ...target, error: describeDeliveryError(error, timeoutMs) };
  }
}

function describeDeliveryError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error ? (error.cause as { message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.message === 'string') return `connection failed: ${cause.message}`;
  return describeError(error);
}
