import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import type { HopEventMatcher } from './hop-event-pattern.js';
import type { HopEvent } from './hop-event.types.js';
import type { ResolvedHopWebhooksConfig } from './hop-webhooks.config.js';
import type { OnHopEventOptions } from './interfaces/on-hop-event-options.interface.js';

/** One decorated method, ready to be called. */
export interface HopEventHandlerBinding {
  /** `Class.method`, as logs name it. */
  readonly label: string;
  readonly matchers: readonly HopEventMatcher[];
  readonly options: OnHopEventOptions;
  readonly invoke: (event: HopEvent<string>) => unknown;
}

/** What one handler's run came to; returned through `emitAsync` to the dispatcher. */
class HandlerOutcome {
  constructor(
    readonly label: string,
    readonly failed: boolean,
  ) {}
}

type Listener = (...args: unknown[]) => unknown;

/**
 * Re-emits verified events on the app's `EventEmitter2` (or a private one when the app has no
 * `EventEmitterModule`), awaits every matching handler, and turns failures into a 500.
 */
@Injectable()
export class HopEventsDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('HopWebhooks');
  private emitter!: EventEmitter2;
  private readonly attached: Array<[event: string, listener: Listener]> = [];
  private anyListener?: Listener;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
  ) {}

  onModuleInit(): void {
    this.emitter = this.findAppEmitter() ?? new EventEmitter2({ maxListeners: 0 });
  }

  /**
   * Subscribes the handlers. Exact names are plain listeners; a method with any wildcard is
   * tested by one `onAny` listener, so wildcards work whatever the app's emitter settings,
   * and a method whose names overlap still runs once per event.
   */
  attach(bindings: readonly HopEventHandlerBinding[]): void {
    const wildcardBindings: HopEventHandlerBinding[] = [];
    for (const binding of bindings) {
      if (binding.matchers.some((matcher) => matcher.kind === 'wildcard')) {
        wildcardBindings.push(binding);
        continue;
      }
      const names = new Set(binding.matchers.map((matcher) => (matcher as { name: string }).name));
      for (const name of names) {
        const listener: Listener = (event) => this.run(binding, event as HopEvent<string>);
        this.emitter.on(this.emittedName(name), listener);
        this.attached.push([this.emittedName(name), listener]);
      }
    }
    if (wildcardBindings.length > 0) this.attachWildcards(wildcardBindings);
  }

  /**
   * Runs every handler of a verified event and resolves once all have finished; rejects with
   * a 500 if any of them failed (each failure is logged by then).
   */
  async dispatch(event: HopEvent<string>): Promise<void> {
    const results: unknown = await this.emitter.emitAsync(this.emittedName(event.event), event);
    const outcomes = Array.isArray(results) ? results.flat().filter(isOutcome) : [];
    const failed = outcomes.filter((outcome) => outcome.failed).length;
    if (this.config.logging === 'deliveries') {
      this.logger.log(
        `Hop event ${event.id} (${event.event}): ${outcomes.length} handler(s) ran, ${failed} failed`,
      );
    }
    if (failed > 0) {
      throw new InternalServerErrorException(
        `${failed} of ${outcomes.length} handlers failed for Hop event ${event.id} (${event.event}); see the application log`,
      );
    }
  }

  onApplicationShutdown(): void {
    for (const [event, listener] of this.attached) this.emitter.off(event, listener);
    if (this.anyListener) this.emitter.offAny(this.anyListener);
    this.attached.length = 0;
    this.anyListener = undefined;
  }

  private attachWildcards(bindings: readonly HopEventHandlerBinding[]): void {
    const prefix = `${this.config.eventPrefix}.`;
    this.anyListener = (emitted, event) => {
      if (typeof emitted !== 'string' || !emitted.startsWith(prefix)) return undefined;
      const name = emitted.slice(prefix.length);
      const matching = bindings.filter((binding) =>
        binding.matchers.some((matcher) =>
          matcher.kind === 'exact' ? matcher.name === name : matcher.test(name),
        ),
      );
      if (matching.length === 0) return undefined;
      return Promise.all(matching.map((binding) => this.run(binding, event as HopEvent<string>)));
    };
    this.emitter.onAny(this.anyListener);
  }

  private async run(
    binding: HopEventHandlerBinding,
    event: HopEvent<string>,
  ): Promise<HandlerOutcome> {
    try {
      await this.withTimeout(binding, event);
      return new HandlerOutcome(binding.label, false);
    } catch (error) {
      const suppressed = binding.options.suppressErrors === true;
      const message =
        `Handler ${binding.label} failed for Hop event ${event.id} (${event.event})` +
        `${suppressed ? ' (suppressErrors: acknowledged anyway)' : ''}: ${describe(error)}`;
      this.logger.error(message, error instanceof Error ? error.stack : undefined);
      return new HandlerOutcome(binding.label, !suppressed);
    }
  }

  private async withTimeout(
    binding: HopEventHandlerBinding,
    event: HopEvent<string>,
  ): Promise<void> {
    const limit = this.config.handlerTimeoutMs;
    if (limit === null) {
      await binding.invoke(event);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not finish within handlerTimeoutMs (${limit} ms)`)),
        limit,
      );
    });
    try {
      await Promise.race([binding.invoke(event), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private emittedName(name: string): string {
    return `${this.config.eventPrefix}.${name}`;
  }

  private findAppEmitter(): EventEmitter2 | undefined {
    try {
      return this.moduleRef.get(EventEmitter2, { strict: false });
    } catch {
      return undefined;
    }
  }
}

function isOutcome(value: unknown): value is HandlerOutcome {
  return value instanceof HandlerOutcome;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
