import type { Type } from '@nestjs/common';
import { NestApplication, type ModulesContainer } from '@nestjs/core';

/**
 * Makes the modules that provide `provider` the first whose `onModuleDestroy` runs, so that
 * what it stops there (deliveries in progress, a queue worker's jobs) finishes while the app's
 * own providers, which handlers use, are still there.
 *
 * `app.close()` destroys modules nearest to the root first. Nest orders its lifecycle hooks
 * by `Module.distance` (read once, when the app runs its first hook, after every provider is
 * constructed): a distance below the root module's puts this module first on shutdown (and
 * last on init, where its one task, finding the app's `EventEmitter2`, needs only providers
 * that exist by then).
 * `test/e2e/delivery.e2e.spec.ts` ("before any onModuleDestroy runs") fails if a release changes this.
 */
export function destroyFirst(modules: ModulesContainer | undefined, provider: Type<unknown>): void {
  if (modules === undefined) return;
  for (const moduleRef of modules.values()) {
    if (moduleRef.providers.has(provider)) moduleRef.distance = -1;
  }
}

/**
 * {@link destroyFirst} on Nest 11 only: Nest 12 tells the HTTP adapter that the app is closing
 * (`beforeClose`) before any `onModuleDestroy`, and the processor drains there.
 */
export function drainFirstOnNest11(
  modules: ModulesContainer | undefined,
  processor: Type<unknown>,
): void {
  if ('prepareClose' in NestApplication.prototype) return;
  destroyFirst(modules, processor);
}
