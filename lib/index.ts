export { HopWebhooksModule } from './nest/webhooks.module.js';
export { HopSignatureGuard } from './nest/signature.guard.js';
export {
  HopWebhooksService,
  type HopSubscriptionSync,
  type HopSyncOptions,
} from './nest/webhooks.service.js';
export type { HopWebhook } from './api/api.client.js';
export { OnHopEvent } from './nest/on-hop-event.decorator.js';
export { HOP_WEBHOOKS_CONFIG } from './nest/constants.js';
export type { HopEventClaim, HopEventStore } from './stores/event.store.js';
export {
  InMemoryHopEventStore,
  type InMemoryHopEventStoreOptions,
} from './stores/memory-event.store.js';
export {
  RedisHopEventStore,
  type HopRedisClient,
  type RedisHopEventStoreOptions,
} from './stores/redis-event.store.js';
export type { ResolvedHopWebhooksConfig } from './nest/webhooks.config.js';
export type {
  HopApiOptions,
  HopIdempotencyOptions,
  HopQueue,
  HopQueueJobData,
  HopQueueJobFailure,
  HopQueueJobOptions,
  HopQueueOptions,
  HopQueueWorkerOptions,
  HopWebhooksLogging,
  HopWebhooksModuleExtras,
  HopWebhooksModuleOptions,
  HopWebhooksRouteVersion,
} from './nest/webhooks-options.interface.js';
export type { OnHopEventOptions } from './nest/on-hop-event-options.interface.js';
export type { HopWebhookRequest } from './core/raw-body.js';

export { HOP_EVENTS, isHopEventName } from './core/events.catalog.js';
export type { HopEventDefinition, HopEventName } from './core/events.catalog.js';
export type {
  HopEvent,
  HopEventEnvelope,
  HopEventPattern,
  HopEventWildcard,
} from './core/event.types.js';
export type * from './core/event-data.types.js';

export {
  HOP_SIGNATURE_HEADER,
  signHopPayload,
  verifyHopSignature,
  type HopRawBody,
  type HopSecrets,
} from './core/signature.js';
export { constructHopEvent } from './core/event.parser.js';
export {
  HopApiError,
  HopBodyError,
  HopConfigurationError,
  HopValidationError,
  HopPayloadError,
  HopSignatureError,
  HopWebhookError,
  type HopWebhookErrorCode,
} from './core/errors.js';
export {
  HOP_ATTRIBUTES,
  HOP_METRICS,
  HOP_TELEMETRY_SCOPE,
  type HopDeliveryErrorType,
  type HopDeliveryOutcome,
} from './core/telemetry.js';
