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
import { HOP_EVENTS } from './hop-events.catalog.js';
import { isPromiseLike } from './promise-like.js';

/** One decorated method, ready to be called. */
export interface HopEventHandlerBinding {
  /** `Class.method`, as logs name it. */
  readonly label: string;
  readonly matchers: readonly HopEventMatcher[];
  /** The distinct names when every matcher is exact; `null` when one is a wildcard. */
  readonly exactNames: readonly string[] | null;
  readonly options: OnHopEventOptions;
  readonly invoke: (event: HopEvent<string>) => unknown;
}

// The prefixes whose handlers are subscribed on each emitter, across module registrations.
const ATTACHED = new WeakMap<EventEmitter2, Set<string>>();

/** How the `@OnHopEvent` handlers of one dispatch went. */
interface Tally {
  ran: number;
  failed: number;
  /** The runs still going when their listener returned; none of them rejects. */
  readonly pending: Promise<void>[];
}

// The tally of the dispatch under way. Listeners run synchronously inside `emitAsync`, so
// the handlers of this module, whichever registration subscribed them, count into the
// dispatch that emitted the event; the other listeners of the app's emitter do not.
let tallying: Tally | undefined;

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
  private attachedPrefix = false;
  // The emitted names of catalog events, built once rather than concatenated per delivery.
  private readonly emittedNames = new Map<string, string>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
  ) {}

  onModuleInit(): void {
    this.emitter = this.findAppEmitter() ?? new EventEmitter2({ maxListeners: 0 });
    for (const { id } of HOP_EVENTS) this.emittedNames.set(id, `${this.config.eventPrefix}.${id}`);
  }

  /**
   * Subscribes the handlers. Exact names are plain listeners; a method with any wildcard is
   * tested by one `onAny` listener, so wildcards work whatever the app's emitter settings,
   * and a method whose names overlap still runs once per event.
   */
  attach(bindings: readonly HopEventHandlerBinding[]): void {
    // Two registrations of the module (two paths, two Hop projects) share the app's emitter:
    // the handlers are subscribed once, or each delivery would run them once per registration.
    const prefixes = ATTACHED.get(this.emitter) ?? new Set<string>();
    if (prefixes.has(this.config.eventPrefix)) return;
    prefixes.add(this.config.eventPrefix);
    ATTACHED.set(this.emitter, prefixes);
    this.attachedPrefix = true;
    const wildcardBindings: HopEventHandlerBinding[] = [];
    for (const binding of bindings) {
      if (binding.exactNames === null) {
        wildcardBindings.push(binding);
        continue;
      }
      const listener: Listener = (event) => this.run(binding, event as HopEvent<string>);
      for (const name of binding.exactNames) {
        const emitted = this.emittedName(name);
        this.emitter.on(emitted, listener);
        this.attached.push([emitted, listener]);
      }
    }
    if (wildcardBindings.length > 0) this.attachWildcards(wildcardBindings);
  }

  /**
   * Runs every handler of a verified event and resolves once all have finished; rejects with
   * a 500 if any of them failed (each failure is logged by then).
   */
  dispatch(event: HopEvent<string>): Promise<void> {
    const tally: Tally = { ran: 0, failed: 0, pending: [] };
    const outer = tallying;
    tallying = tally;
    let results: unknown;
    try {
      results = this.emitter.emitAsync(this.emittedName(event.event), event);
    } catch (error) {
      // Another listener on the app's emitter threw synchronously.
      return this.otherListenerFailed(event, tally, error);
    } finally {
      tallying = outer;
    }
    // emitAsync answers `false`, not a promise, when the emitter has no listener at all.
    if (!isPromiseLike(results)) return Promise.resolve(this.settle(event, tally));
    return (results as Promise<unknown>).then(
      () => this.settle(event, tally),
      (error: unknown) => this.otherListenerFailed(event, tally, error),
    );
  }

  /**
   * Another listener of the app's emitter failed (e.g. an `@OnEvent` with
   * `suppressErrors: false`): `emitAsync` gives up at once, but this module's handlers still
   * run to completion before the delivery is answered 500, so a retry cannot overlap them.
   */
  private async otherListenerFailed(
    event: HopEvent<string>,
    tally: Tally,
    error: unknown,
  ): Promise<never> {
    this.logger.error(
      `A listener of ${this.emittedName(event.event)} failed for Hop event ${event.id}: ${describe(error)}`,
      error instanceof Error ? error.stack : undefined,
    );
    await Promise.all(tally.pending);
    throw new InternalServerErrorException(
      `A listener failed for Hop event ${event.id} (${event.event}); see the application log`,
    );
  }

  private settle(event: HopEvent<string>, { ran, failed }: Tally): void {
    if (this.config.logging === 'deliveries') {
      this.logger.log(
        `Hop event ${event.id} (${event.event}): ${ran} handler(s) ran, ${failed} failed`,
      );
    }
    if (failed > 0) {
      throw new InternalServerErrorException(
        `${failed} of ${ran} handlers failed for Hop event ${event.id} (${event.event}); see the application log`,
      );
    }
  }

  onApplicationShutdown(): void {
    for (const [event, listener] of this.attached) this.emitter.off(event, listener);
    if (this.anyListener) this.emitter.offAny(this.anyListener);
    if (this.attachedPrefix) ATTACHED.get(this.emitter)?.delete(this.config.eventPrefix);
    this.attached.length = 0;
    this.anyListener = undefined;
    this.attachedPrefix = false;
  }

  private attachWildcards(bindings: readonly HopEventHandlerBinding[]): void {
    const prefix = `${this.config.eventPrefix}.`;
    this.anyListener = (emitted, event) => {
      if (typeof emitted !== 'string' || !emitted.startsWith(prefix)) return undefined;
      const name = emitted.slice(prefix.length);
      const matching = bindings.filter((binding) =>
        binding.matchers.some((matcher) => matcher.test(name)),
      );
      if (matching.length === 0) return undefined;
      const runs = matching.map((binding) => this.run(binding, event as HopEvent<string>));
      return runs.some((run) => run !== undefined) ? Promise.all(runs) : undefined;
    };
    this.emitter.onAny(this.anyListener);
  }

  /**
   * Runs one handler and counts its outcome into the dispatch's tally. Never rejects, so
   * every other handler runs to completion too.
   */
  private run(binding: HopEventHandlerBinding, event: HopEvent<string>): Promise<void> | undefined {
    // Emitted by someone else than `dispatch` (the app itself): counted nowhere.
    const tally = tallying ?? { ran: 0, failed: 0, pending: [] };
    tally.ran += 1;
    let result: unknown;
    try {
      result = binding.invoke(event);
    } catch (error) {
      this.failed(binding, event, error, tally);
      return undefined;
    }
    if (!isPromiseLike(result)) return undefined;
    const limit = this.config.handlerTimeoutMs;
    const finished = limit === null ? Promise.resolve(result) : within(result, limit);
    const settled = finished.then(
      () => undefined,
      (error: unknown) => this.failed(binding, event, error, tally),
    );
    tally.pending.push(settled);
    return settled;
  }

  private failed(
    binding: HopEventHandlerBinding,
    event: HopEvent<string>,
    error: unknown,
    tally: Tally,
  ): void {
    const suppressed = binding.options.suppressErrors === true;
    const message =
      `Handler ${binding.label} failed for Hop event ${event.id} (${event.event})` +
      `${suppressed ? ' (suppressErrors: acknowledged anyway)' : ''}: ${describe(error)}`;
    this.logger.error(message, error instanceof Error ? error.stack : undefined);
    if (!suppressed) tally.failed += 1;
  }

  private emittedName(name: string): string {
    return this.emittedNames.get(name) ?? `${this.config.eventPrefix}.${name}`;
  }

  private findAppEmitter(): EventEmitter2 | undefined {
    try {
      return this.moduleRef.get(EventEmitter2, { strict: false });
    } catch {
      return undefined;
    }
  }
}

/** Settles like `result`, or rejects once `limit` ms have passed (the handler runs on). */
function within(result: PromiseLike<unknown>, limit: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not finish within handlerTimeoutMs (${limit} ms)`)),
      limit,
    );
  });
  return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
