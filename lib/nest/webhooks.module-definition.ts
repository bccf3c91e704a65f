import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HOP_WEBHOOKS_CONFIG, HOP_WEBHOOKS_ROUTE } from './constants.js';
import { HopBodyReaderInstaller } from './body-reader.installer.js';
import { HopDeliveryProcessor } from './delivery.processor.js';
import { HopEventsDispatcher } from './events.dispatcher.js';
import { HopEventsExplorer } from './events.explorer.js';
import { HopEventsMetadataAccessor } from './events-metadata.accessor.js';
import { HopSignatureGuard } from './signature.guard.js';
import { createHopWebhooksController } from './webhooks.controller.js';
import {
  fail,
  resolveHopWebhooksConfig,
  type ResolvedHopWebhooksConfig,
} from './webhooks.config.js';
import { HopDeliveryQueue } from './delivery.queue.js';
import { HopQueueWorker } from './queue.worker.js';
import { resolveHopWebhooksRoute } from './webhooks.route.js';
import { HopWebhookSecrets } from '../core/webhook-secrets.js';
import { HopTelemetry } from '../core/telemetry.js';
import { HopWebhooksService } from './webhooks.service.js';
import type {
  HopWebhooksModuleExtras,
  HopWebhooksModuleOptions,
} from './webhooks-options.interface.js';

export const {
  ConfigurableModuleClass: HopWebhooksConfigurableModule,
  MODULE_OPTIONS_TOKEN: HOP_WEBHOOKS_MODULE_OPTIONS,
  OPTIONS_TYPE: HOP_WEBHOOKS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: HOP_WEBHOOKS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<HopWebhooksModuleOptions>({ moduleName: 'HopWebhooks' })
  .setClassMethodName('forRoot')
  // Every extra is listed, so forRoot's options object sheds them before it is validated.
  .setExtras<HopWebhooksModuleExtras>(
    {
      isGlobal: false,
      path: undefined,
      version: undefined,
      decorators: undefined,
      receive: undefined,
    },
    withReceiver,
  )
  .build();

/**
 * Adds the receiving path (controller, body reader, guard) unless `receive` is `false`, and
 * what runs handlers (discovery, dispatch, the queue worker), to a module definition.
 */
function withReceiver(definition: DynamicModule, extras: HopWebhooksModuleExtras): DynamicModule {
  const route = resolveHopWebhooksRoute(extras);
  const receive = extras.receive ?? true;
  if (typeof receive !== 'boolean') fail('`receive` must be true or false');
  return {
    ...definition,
    global: extras.isGlobal ?? false,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    controllers: receive ? [createHopWebhooksController(route)] : [],
    providers: [
      ...(definition.providers ?? []),
      {
        provide: HOP_WEBHOOKS_CONFIG,
        useFactory: (options: HopWebhooksModuleOptions) =>
          resolveHopWebhooksConfig(options, receive),
        inject: [HOP_WEBHOOKS_MODULE_OPTIONS],
      },
      { provide: HOP_WEBHOOKS_ROUTE, useValue: route },
      {
        provide: HopWebhookSecrets,
        useFactory: (config: ResolvedHopWebhooksConfig) => new HopWebhookSecrets(config.secrets),
        inject: [HOP_WEBHOOKS_CONFIG],
      },
      { provide: HopTelemetry, useFactory: () => new HopTelemetry() },
      ...(receive ? [HopBodyReaderInstaller] : []),
      HopWebhooksService,
      HopSignatureGuard,
      HopEventsMetadataAccessor,
      HopEventsDispatcher,
      HopDeliveryProcessor,
      HopDeliveryQueue,
      HopQueueWorker,
      HopEventsExplorer,
    ],
    exports: [HOP_WEBHOOKS_CONFIG, HopSignatureGuard, HopWebhookSecrets, HopWebhooksService],
  };
}
