/** Metadata key under which `@OnHopEvent` records a method's subscriptions. */
export const HOP_EVENT_HANDLER_METADATA = 'nestjs-hop-webhooks:event-handler';

/** Injection token of the validated configuration (`ResolvedHopWebhooksConfig`). */
export const HOP_WEBHOOKS_CONFIG = Symbol('HOP_WEBHOOKS_CONFIG');

/** Injection token of the route the webhook controller is mounted at. */
export const HOP_WEBHOOKS_ROUTE = Symbol('HOP_WEBHOOKS_ROUTE');

export const DEFAULT_PATH = 'hop/webhook';
export const DEFAULT_EVENT_PREFIX = 'hop';
