import { HOP_EVENT_HANDLER_METADATA } from './constants.js';
import { compileHopEventPatterns, type CompiledHopEventPatterns } from '../core/event-pattern.js';
import type { HopEventPattern } from '../core/event.types.js';
import { HopConfigurationError } from '../core/errors.js';
import type { OnHopEventOptions } from './on-hop-event-options.interface.js';

/** What one `@OnHopEvent(...)` records on a method: its names, compiled once, here. */
export interface HopEventHandlerMetadata extends CompiledHopEventPatterns {
  readonly events: readonly string[];
  readonly options: OnHopEventOptions;
}

/**
 * Runs the decorated method for every verified Hop event matching `events`: catalog names
 * (checked at compile time), or wildcards (`*` for every event, `ignite.deployment.*`,
 * `ignite.**`). The method receives the `HopEvent`; the delivery is answered 2xx only after
 * it (and every other matching handler) has finished, 500 if it throws.
 *
 * @example
 * @OnHopEvent('ignite.deployment.build.updated')
 * async onBuild(event: HopEvent<'ignite.deployment.build.updated'>) {
 *   if (event.data.state === 'failed') await this.alerts.buildFailed(event.data);
 * }
 */
export function OnHopEvent(
  events: HopEventPattern | readonly HopEventPattern[],
  options: OnHopEventOptions = {},
): MethodDecorator {
  const names: readonly string[] = typeof events === 'string' ? [events] : [...events];
  return (target, key, descriptor) => {
    let compiled: CompiledHopEventPatterns;
    try {
      compiled = compileHopEventPatterns(names);
    } catch (error) {
      // A malformed name fails where the class is defined, naming the method.
      throw new HopConfigurationError(
        `@OnHopEvent on ${target.constructor.name}.${String(key)}: ${(error as Error).message}`,
      );
    }
    const metadata: HopEventHandlerMetadata = { events: names, options, ...compiled };
    const method = descriptor.value as object;
    const earlier: readonly HopEventHandlerMetadata[] =
      Reflect.getMetadata(HOP_EVENT_HANDLER_METADATA, method) ?? [];
    Reflect.defineMetadata(HOP_EVENT_HANDLER_METADATA, [...earlier, metadata], method);
    return descriptor;
  };
}
