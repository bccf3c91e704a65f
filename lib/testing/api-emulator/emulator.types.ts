import type { HopEventEnvelope } from '../../core/event.types.js';
import type { HopEventName } from '../../core/events.catalog.js';

/** A webhook as the emulator stores it and Hop's API returns it (`secret` in full here). */
export interface HopEmulatorWebhook {
  /** `webhook_…` */
  id: string;
  /** `project_…` */
  project_id: string;
  type: 'http';
  /** Where deliveries are posted. */
  webhook_url: string;
  /** The events this webhook is subscribed to. */
  events: HopEventName[];
  /** `whsec_…`: the key of every delivery's `X-Hop-Hooks-Signature`. */
  secret: string;
  /** ISO-8601 */
  created_at: string;
}

/** The event of one {@link HopApiEmulator.emit}, without the per-webhook `webhook_id` and `project_id`. */
export type HopEmulatorEvent = Omit<HopEventEnvelope<string, unknown>, 'webhook_id' | 'project_id'>;

/** How one webhook's delivery went. */
export interface HopEmulatorDelivery {
  webhookId: string;
  projectId: string;
  url: string;
  /** The receiver's HTTP status; absent when the connection failed or timed out. */
  status?: number;
  /** Why no status was received (connection refused, timeout, …). */
  error?: string;
}

/** What {@link HopApiEmulator.emit} resolves with. */
export interface HopEmulatorEmitResult {
  /**
   * The event every webhook received. Each delivery's body also carries that webhook's
   * `webhook_id` and `project_id`, which are therefore left out here.
   */
  event: HopEmulatorEvent;
  /** One entry per subscribed webhook, in the order the webhooks were created. */
  deliveries: HopEmulatorDelivery[];
}

/** One API request the emulator answered, as kept in {@link HopApiEmulator.requests}. */
export interface HopEmulatorRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The status the emulator answered with. */
  readonly status: number;
  /** Whether an `Authorization` header was sent (the token itself is never kept). */
  readonly authorization: boolean;
}
