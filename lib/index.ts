export { HopWebhooksModule } from './hop-webhooks.module.js';
export { HopSignatureGuard } from './hop-signature.guard.js';
export {
  HopWebhooksService,
  type HopSubscriptionSync,
  type HopSyncOptions,
} from './hop-webhooks.service.js';
export type { HopWebhook } from './hop-api.client.js';
export { OnHopEvent } from './decorators/on-hop-event.decorator.js';
export { HOP_WEBHOOKS_CONFIG } from './constants.js';
export type { HopEventClaim, HopEventStore } from './hop-event.store.js';
export {
  InMemoryHopEventStore,
  type InMemoryHopEventStoreOptions,
} from './memory-hop-event.store.js';
export {
  RedisHopEventStore,
  type HopRedisClient,
  type RedisHopEventStoreOptions,
} from './redis-hop-event.store.js';
export type { ResolvedHopWebhooksConfig } from './hop-webhooks.config.js';
export type {
  HopApiOptions,
  HopIdempotencyOptions,
  HopWebhooksLogging,
  HopWebhooksModuleExtras,
  HopWebhooksModuleOptions,
  HopWebhooksRouteVersion,
} from './interfaces/hop-webhooks-options.interface.js';
export type { OnHopEventOptions } from './interfaces/on-hop-event-options.interface.js';
export type { HopWebhookRequest } from './hop-raw-body.js';

export { HOP_EVENTS, isHopEventName } from './hop-events.catalog.js';
export type { HopEventDefinition, HopEventName } from './hop-events.catalog.js';
export type {
  HopEvent,
  HopEventEnvelope,
  HopEventPattern,
  HopEventWildcard,
} from './hop-event.types.js';
export type * from './hop-event-data.types.js';

export {
  HOP_SIGNATURE_HEADER,
  signHopPayload,
  verifyHopSignature,
  type HopRawBody,
  type HopSecrets,
} from './hop-signature.js';
export { constructHopEvent } from './hop-event.parser.js';
export {
  HopApiError,
  HopConfigurationError,
  HopValidationError,
  HopPayloadError,
  HopSignatureError,
  HopWebhookError,
  type HopWebhookErrorCode,
} from './hop-webhook.errors.js';
