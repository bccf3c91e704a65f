import type { DynamicModule, Provider, ValueProvider } from '@nestjs/common';

// The module as it was before it reported anything: every call into its telemetry does
// nothing, and no request gets a span, a listener or an object of its own.
const NO_TELEMETRY = {
  traceRequest: () => undefined,
  startHandler: () => undefined,
  runInDelivery: (_delivery: unknown, run: () => unknown) => run(),
  carrierOf: () => undefined,
  runInCarrier: (_carrier: unknown, run: () => unknown) => run(),
  recordStoreError: () => undefined,
  recordHandler: () => undefined,
  recordDelivery: () => undefined,
};

/**
 * The registration with its telemetry taken out (the baseline of "with no SDK, the feature
 * costs nothing"): the provider named `HopTelemetry` is given the do-nothing object above.
 */
export function withoutTelemetry(registration: DynamicModule): DynamicModule {
  const isTelemetry = (provider: Provider): boolean =>
    typeof provider === 'object' &&
    'provide' in provider &&
    typeof provider.provide === 'function' &&
    provider.provide.name === 'HopTelemetry';
  const providers = registration.providers ?? [];
  const telemetry = providers.find(isTelemetry) as ValueProvider | undefined;
  if (telemetry === undefined) {
    throw new Error('withoutTelemetry: the module registers no HopTelemetry provider any more');
  }
  // The stand-in must answer every method the module may call.
  const methods = Object.getOwnPropertyNames(
    (telemetry.provide as { prototype: object }).prototype,
  );
  const missing = methods.filter((name) => name !== 'constructor' && !(name in NO_TELEMETRY));
  if (missing.length > 0) {
    throw new Error(`withoutTelemetry: NO_TELEMETRY lacks ${missing.join(', ')}`);
  }
  return {
    ...registration,
    providers: providers.map((provider) =>
      provider === telemetry ? { provide: telemetry.provide, useValue: NO_TELEMETRY } : provider,
    ),
  };
}
