import type { HopSecrets } from '../hop-signature.js';

/** Options of `HopWebhooksModule.forRoot` / `forRootAsync`. */
export interface HopWebhooksModuleOptions {
  /**
   * The webhook secret (`whsec_…`) Hop showed when the webhook was created, or several
   * secrets while rotating: a delivery signed with any of them is accepted.
   */
  secret: HopSecrets;
  /**
   * Verified events are re-emitted on `EventEmitter2` as `<eventPrefix>.<event name>`, so a
   * plain `@OnEvent('hop.ignite.deployment.build.updated')` receives them too.
   * @default 'hop'
   */
  eventPrefix?: string;
  /**
   * `'startup'` logs the wired handlers and configuration warnings; `'deliveries'` also logs
   * every delivery (event id, name, handler count); `false` logs only failures.
   * Handler failures and configuration errors are always logged.
   * @default 'startup'
   */
  logging?: HopWebhooksLogging;
}

/** See {@link HopWebhooksModuleOptions.logging}. */
export type HopWebhooksLogging = 'startup' | 'deliveries' | false;

/**
 * Options that shape the module itself: known when the module is imported, so in
 * `forRootAsync` they stand beside `useFactory`, not in what it returns.
 */
export interface HopWebhooksModuleExtras {
  /** Register the module globally, so its guard and config are available everywhere. */
  isGlobal?: boolean;
  /**
   * Where Hop's `POST` is received, relative to the app's global prefix.
   * @default 'hop/webhook'
   */
  path?: string;
  /**
   * Class decorators applied to the webhook controller, e.g. the app's own `@Public()` marker
   * so that a global authentication guard lets Hop's requests through.
   * @default []
   */
  decorators?: ClassDecorator[];
}
