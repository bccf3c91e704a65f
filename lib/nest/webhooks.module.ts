import { Module, type DynamicModule } from '@nestjs/common';
import {
  HopWebhooksConfigurableModule,
  HOP_WEBHOOKS_ASYNC_OPTIONS_TYPE,
  HOP_WEBHOOKS_OPTIONS_TYPE,
} from './webhooks.module-definition.js';
import type { HopSecrets } from '../core/signature.js';

/**
 * Receives Hop webhooks: a `POST` route (default `/hop/webhook`) that reads its body itself,
 * verifies its signature over those bytes, then runs every `@OnHopEvent` handler of the app.
 * The app needs no `rawBody` option.
 *
 * @example
 * ```ts
 * HopWebhooksModule.forRoot(process.env.HOP_WEBHOOK_SECRET)
 * HopWebhooksModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ secret: config.getOrThrow('HOP_WEBHOOK_SECRET') }),
 * })
 * ```
 */
@Module({})
export class HopWebhooksModule extends HopWebhooksConfigurableModule {
  /**
   * Registers the receiver with the webhook secret (or secrets), or with full options.
   * `forRoot(process.env.HOP_WEBHOOK_SECRET)` type-checks: an unset variable stops the app at
   * startup with a message naming `secret`.
   */
  static override forRoot(
    secretOrOptions: HopSecrets | undefined | typeof HOP_WEBHOOKS_OPTIONS_TYPE,
  ): DynamicModule {
    const isOptions =
      typeof secretOrOptions === 'object' &&
      secretOrOptions !== null &&
      !Array.isArray(secretOrOptions);
    // A secret read from an unset variable arrives as undefined: the startup check names it.
    return super.forRoot(
      isOptions
        ? (secretOrOptions as typeof HOP_WEBHOOKS_OPTIONS_TYPE)
        : { secret: secretOrOptions as HopSecrets },
    );
  }

  /** Registers the receiver with options computed at startup, e.g. from `ConfigService`. */
  static override forRootAsync(options: typeof HOP_WEBHOOKS_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
