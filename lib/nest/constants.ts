/** Metadata key under which `@OnHopEvent` records a method's subscriptions. */
export const HOP_EVENT_HANDLER_METADATA = 'nestjs-hop-webhooks:event-handler';

// Keys and tokens are registered symbols and strings, so that the CommonJS and the ESM build
// of this package, if an app loads both, read and provide the same ones.

/** Injection token of the validated configuration (`ResolvedHopWebhooksConfig`). */
export const HOP_WEBHOOKS_CONFIG = Symbol.for('nestjs-hop-webhooks:config');

/** Injection token of the route the webhook controller is mounted at. */
export const HOP_WEBHOOKS_ROUTE = Symbol.for('nestjs-hop-webhooks:route');

export const DEFAULT_PATH = 'hop/webhook';
export const DEFAULT_EVENT_PREFIX = 'hop';
