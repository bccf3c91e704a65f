import type { Type } from '@nestjs/common';
import { NestApplication, type ModulesContainer } from '@nestjs/core';

/**
 * Makes the modules that provide `processor` the first whose `onModuleDestroy` runs, on Nest 11.
 *
 * Nest 12 tells the HTTP adapter that the app is closing (`beforeClose`) before any
 * `onModuleDestroy`, and the processor drains there. Nest 11 has no such signal: `app.close()`
 * destroys modules nearest to the root first, so the app's own providers would be gone while
 * handlers still run. Nest 11 orders its lifecycle hooks by `Module.distance` (read once, when
 * the app runs its first hook, after every provider is constructed): a distance below the root
 * module's puts this module first on shutdown (and last on init, where it has nothing to do).
 * `test/e2e/delivery.e2e.spec.ts` ("before any onModuleDestroy runs") fails if a release changes this.
 */
export function drainFirstOnNest11(
  modules: ModulesContainer | undefined,
  processor: Type<unknown>,
): void {
  if ('prepareClose' in NestApplication.prototype || modules === undefined) return;
  for (const moduleRef of modules.values()) {
    if (moduleRef.providers.has(processor)) moduleRef.distance = -1;
  }
}
