import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  OnModuleInit,
} from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import type { EventEmitter2 } from '@nestjs/event-emitter';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import { settleWithin } from '../core/settle-within.js';
import { HopTelemetry, type HopDeliveryTrace, type HopHandlerFailure } from '../core/telemetry.js';
import {
  describeError,
  describeHopEvent,
  HopConfigurationError,
  printable,
} from '../core/errors.js';
import type { HopEventMatcher } from '../core/event-pattern.js';
import type { HopEvent } from '../core/event.types.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import type { OnHopEventOptions } from './on-hop-event-options.interface.js';

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

/**
 * The 500 of a delivery whose handlers (or the app's listeners) failed, naming them for the
 * queue worker's record of the attempt.
 * @internal
 */
export class HopHandlersFailedException extends InternalServerErrorException {
  constructor(
    /** Each failed handler (`Class.method`, or `<eventPrefix>.<event> listeners`) and its error. */
    readonly failures: readonly HopHandlerError[],
    message: string,
  ) {
    super(message);
  }
}

/** A handler that failed a delivery, and the message of what it threw. */
export interface HopHandlerError {
  readonly handler: string;
  readonly error: string;
}

/**
 * Runs the `@OnHopEvent` handlers matching a verified event, all together, and re-emits the
 * event on the app's `EventEmitter2` for its own `@OnEvent` listeners; answers 500 (once
 * every one of them has finished) if a handler or such a listener failed.
 */
@Injectable()
export class HopEventsDispatcher implements OnModuleInit {
  private readonly logger = new Logger('HopWebhooks');
  // Handlers by the event names they list; those with a wildcard are tested one by one.
  private readonly byName = new Map<string, readonly HopEventHandlerBinding[]>();
  private readonly wildcards: HopEventHandlerBinding[] = [];
  // The app's emitter, if it imports `EventEmitterModule`; without one, no one can listen.
  private emitter?: EventEmitter2;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly modules: ModulesContainer,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
    private readonly telemetry: HopTelemetry,
  ) {}

  async onModuleInit(): Promise<void> {
    this.emitter = await this.appEmitter();
  }

  /**
   * The app's `EventEmitter2`, if it imports `EventEmitterModule`. The package is loaded only
   * here, so that an app that does not use it need not have it, nor be able to load it: its 12
   * is ES modules only, which Jest cannot load into a CommonJS app (Nest 11's) before Node 24.9.
   */
  private async appEmitter(): Promise<EventEmitter2 | undefined> {
    let token: typeof EventEmitter2;
    try {
      ({ EventEmitter2: token } = await import('@nestjs/event-emitter'));
    } catch (error) {
      // Not installed, or not loadable here. The app then has no emitter, unless it loaded
      // the package another way (an ES module app, this package required as CommonJS on a
      // Node without require(esm)): its listeners would hear nothing, so that stops the app.
      if (this.appProvides('EventEmitter2')) {
        throw new HopConfigurationError(
          `HopWebhooksModule: the app has an EventEmitter2, but this copy of nestjs-hop-webhooks cannot load @nestjs/event-emitter to re-emit events on it (${describeError(error)}): load both the same way (both ES modules, or both CommonJS), or run on a Node with require(esm) (20.19+, 22.12+)`,
        );
      }
      return undefined;
    }
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      // The app has no `EventEmitterModule`: no one can listen.
      return undefined;
    }
  }

  /** Whether some module of the app provides a class of that name. */
  private appProvides(className: string): boolean {
    for (const module of this.modules.values()) {
      for (const token of module.providers.keys()) {
        if (typeof token === 'function' && token.name === className) return true;
      }
    }
    return false;
  }

  /** Routes events to these handlers (the explorer's, found at bootstrap). */
  route(bindings: readonly HopEventHandlerBinding[]): void {
    for (const binding of bindings) {
      const names = binding.exactNames;
      if (names === null) this.wildcards.push(binding);
      else for (const name of names) this.byName.set(name, [...this.named(name), binding]);
    }
  }

  /**
   * Runs every handler of a verified event and resolves once all have finished; rejects with
   * a 500 if any of them failed (each failure is logged by then). Each handler has its span,
   * a child of the delivery's.
   */
  async dispatch(event: HopEvent<string>, trace?: HopDeliveryTrace): Promise<void> {
    const handlers = this.handlersOf(event.event);
    const runs = handlers.map((handler) => this.run(handler, event, trace));
    const { emitter } = this;
    const listenerFailed = emitter
      ? await this.telemetry.runInDelivery(trace, () => this.emit(emitter, event))
      : undefined;
    // Each run never rejects: awaited in turn, they all finish, and each outcome is kept.
    const failures: HopHandlerError[] = [];
    for (const run of runs) {
      const failure = await run;
      if (failure !== undefined) failures.push(failure);
    }
    const failed = failures.length;
    if (failed > 0) trace?.failed('handler_failed');
    if (listenerFailed !== undefined) {
      trace?.failed('listener_failed');
      throw new HopHandlersFailedException(
        [...failures, listenerFailed],
        `A listener failed for ${describeHopEvent(event)}; see the application log`,
      );
    }
    if (this.config.logging === 'deliveries') {
      this.logger.log(
        `${describeHopEvent(event)}: ${handlers.length} handler(s) ran, ${failed} failed`,
      );
    }
    if (failed > 0) {
      throw new HopHandlersFailedException(
        failures,
        `${failed} of ${handlers.length} handlers failed for ${describeHopEvent(event)}; see the application log`,
      );
    }
  }

  private named(name: string): readonly HopEventHandlerBinding[] {
    return this.byName.get(name) ?? [];
  }

  /** Each handler once, however many of its names match. */
  private handlersOf(name: string): readonly HopEventHandlerBinding[] {
    if (this.wildcards.length === 0) return this.named(name);
    const matching = this.wildcards.filter(({ matchers }) => matchers.some((m) => m.test(name)));
    return matching.length === 0 ? this.named(name) : [...this.named(name), ...matching];
  }

  /**
   * Runs one handler in its span, and records its duration; resolves to its failure if that
   * fails the delivery. Never rejects.
   */
  private async run(
    binding: HopEventHandlerBinding,
    event: HopEvent<string>,
    trace: HopDeliveryTrace | undefined,
  ): Promise<HopHandlerError | undefined> {
    const limit = this.config.handlerTimeoutMs;
    const handler = this.telemetry.startHandler(trace, binding.label, event.event);
    let failure: HopHandlerFailure | undefined;
    try {
      const invoke = () => binding.invoke(event);
      const result = handler ? handler.run(invoke) : invoke();
      await (limit === null
        ? result
        : settleWithin(result, limit, `did not finish within handlerTimeoutMs (${limit} ms)`));
      return undefined;
    } catch (error) {
      const suppressed = binding.options.suppressErrors === true;
      failure = { error, suppressed };
      this.logger.error(
        `Handler ${binding.label} failed for ${describeHopEvent(event)}` +
          `${suppressed ? ' (suppressErrors: acknowledged anyway)' : ''}: ${describeError(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
      return suppressed ? undefined : { handler: binding.label, error: describeError(error) };
    } finally {
      handler?.end(failure);
    }
  }

  /**
   * Re-emits the event as `<eventPrefix>.<event>`; resolves to the failure if one of the app's
   * listeners failed (e.g. an `@OnEvent` with `suppressErrors: false`). Never rejects.
   */
  private async emit(
    emitter: EventEmitter2,
    event: HopEvent<string>,
  ): Promise<HopHandlerError | undefined> {
    const name = `${this.config.eventPrefix}.${event.event}`;
    try {
      await emitter.emitAsync(name, event);
      return undefined;
    } catch (error) {
      const listeners = `${this.config.eventPrefix}.${printable(event.event)} listeners`;
      this.logger.error(
        `${listeners} failed for ${describeHopEvent(event)}: ${describeError(error)}`,
        error instanceof Error ? error.stack : undefined,
      );
      return { handler: listeners, error: describeError(error) };
    }
  }
}
