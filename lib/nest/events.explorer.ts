import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { HOP_WEBHOOKS_CONFIG, HOP_WEBHOOKS_ROUTE } from './constants.js';
import type { HopEventHandlerMetadata } from './on-hop-event.decorator.js';
import { compileHopEventPatterns, type HopEventMatcher } from '../core/event-pattern.js';
import { HOP_EVENTS, isHopEventName, type HopEventName } from '../core/events.catalog.js';
import { HopEventsDispatcher, type HopEventHandlerBinding } from './events.dispatcher.js';
import { HopEventsMetadataAccessor } from './events-metadata.accessor.js';
import { HopConfigurationError } from '../core/errors.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import { describeHopWebhooksRoute, type ResolvedHopWebhooksRoute } from './webhooks.route.js';

/**
 * Finds every `@OnHopEvent` method of the app's providers and controllers at bootstrap and
 * hands them to the dispatcher, saying what it wired and warning about names that cannot fire.
 */
@Injectable()
export class HopEventsExplorer implements OnApplicationBootstrap {
  private readonly logger = new Logger('HopWebhooks');
  private bindings?: readonly HopEventHandlerBinding[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: HopEventsMetadataAccessor,
    private readonly dispatcher: HopEventsDispatcher,
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
    @Inject(HOP_WEBHOOKS_ROUTE) private readonly route: ResolvedHopWebhooksRoute,
    @Optional() private readonly applicationConfig?: ApplicationConfig,
  ) {}

  onApplicationBootstrap(): void {
    const bindings = this.discover();
    this.dispatcher.route(bindings);
    if (this.config.logging === false) return;
    for (const binding of bindings) {
      for (const matcher of binding.matchers) this.warnIfUnreachable(binding.label, matcher);
    }
    for (const binding of bindings) {
      const names = binding.matchers.map((matcher) =>
        matcher.kind === 'exact' ? matcher.name : matcher.pattern,
      );
      this.logger.log(`${binding.label} ← ${names.join(', ')}`);
    }
    this.logger.log(
      this.config.receive
        ? `Receiving Hop webhooks at ${describeHopWebhooksRoute(this.route, this.applicationConfig)}; ${bindings.length} handler(s) wired`
        : `No webhook route here (receive: false); ${bindings.length} handler(s) wired for queued Hop events`,
    );
  }

  /** Every decorated method of the app, bound to its instance (found once). */
  discover(): readonly HopEventHandlerBinding[] {
    this.bindings ??= this.explore();
    return this.bindings;
  }

  /** The catalog events some handler subscribes to, wildcards expanded, in catalog order. */
  handledEventNames(): HopEventName[] {
    const matchers = this.discover().flatMap((binding) => binding.matchers);
    return HOP_EVENTS.map((event) => event.id).filter((name) =>
      matchers.some((matcher) => matcher.test(name)),
    );
  }

  private explore(): HopEventHandlerBinding[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const bindings: HopEventHandlerBinding[] = [];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (wrapper.isAlias || typeof instance !== 'object' || instance === null) continue;
      const prototype: object | null = Object.getPrototypeOf(instance);
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const metadata = this.accessor.getHandlerMetadata(
          prototype[method as keyof typeof prototype],
        );
        if (metadata) bindings.push(this.bind(wrapper, instance, method, metadata));
      }
    }
    return bindings;
  }

  private bind(
    wrapper: InstanceWrapper,
    instance: object,
    method: string,
    metadata: readonly HopEventHandlerMetadata[],
  ): HopEventHandlerBinding {
    const label = `${instance.constructor.name}.${method}`;
    if (!wrapper.isDependencyTreeStatic()) {
      throw new HopConfigurationError(
        `@OnHopEvent on ${label}: ${instance.constructor.name} is request-scoped (or depends on a request-scoped provider), which Hop event handlers do not support. Keep the handler in a singleton provider and resolve request-scoped work from there.`,
      );
    }
    // One decorator, the common case, was compiled when the class was defined.
    const compiled =
      metadata.length === 1
        ? metadata[0]!
        : compileHopEventPatterns(metadata.flatMap(({ events }) => events));
    const [{ options }] = metadata as [HopEventHandlerMetadata];
    if (metadata.some((entry) => entry.options.suppressErrors !== options.suppressErrors)) {
      // Options apply to the method, not to one of its names: two sets would be ambiguous.
      throw new HopConfigurationError(
        `@OnHopEvent on ${label} is applied several times with different options: use one @OnHopEvent with an array of names`,
      );
    }
    const methods = instance as Record<string, (event: unknown) => unknown>;
    return {
      label,
      matchers: compiled.matchers,
      exactNames: compiled.exactNames,
      options,
      // Looked up on each call, so a spy or mock a test puts on the method after startup runs.
      invoke: (event) => methods[method]!(event),
    };
  }

  private warnIfUnreachable(label: string, matcher: HopEventMatcher): void {
    if (matcher.kind === 'exact' && !isHopEventName(matcher.name)) {
      this.logger.warn(
        `@OnHopEvent('${matcher.name}') on ${label}: not a known Hop event, so it will likely never fire (check the spelling against HOP_EVENTS)`,
      );
    }
    if (matcher.kind === 'wildcard' && !HOP_EVENTS.some((event) => matcher.test(event.id))) {
      this.logger.warn(
        `@OnHopEvent('${matcher.pattern}') on ${label}: matches no known Hop event ('*' is one segment, '**' several)`,
      );
    }
  }
}
