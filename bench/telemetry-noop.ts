// What the module's telemetry costs a delivery when the app registered no OpenTelemetry SDK:
// the calls a delivery with one handler makes (`traceRequest`, `startHandler`), timed on the
// module's own HopTelemetry in a loop. Run by run.ts in a child process of its own, or
// directly: node bench/dist/telemetry-noop.js
import type { FactoryProvider, Provider } from '@nestjs/common';
import { HopWebhooksModule } from 'nestjs-hop-webhooks';
import type { ServerResponse } from 'node:http';
import { SECRET } from './fixture.js';
import { reportMeasurement } from './ipc.js';
import { formatTelemetryNoopTable } from './report.js';
import { median } from './stats.js';

export interface TelemetryNoopResult {
  /** Median over the batches, for one delivery and its one handler. */
  readonly nsPerDelivery: number;
  readonly batches: number;
}

/** The part of the module's HopTelemetry a delivery calls. */
interface Telemetry {
  traceRequest(request: object, response: ServerResponse): unknown;
  startHandler(delivery: unknown, label: string, eventName: string): unknown;
}

const BATCHES = 9;
const CALLS = 1_000_000;

/** The module's own HopTelemetry, made as the module makes it. */
function moduleTelemetry(): Telemetry {
  const providers: Provider[] = HopWebhooksModule.forRoot({ secret: SECRET }).providers ?? [];
  const provider = providers.find(
    (candidate) =>
      typeof candidate === 'object' &&
      'provide' in candidate &&
      typeof candidate.provide === 'function' &&
      candidate.provide.name === 'HopTelemetry',
  ) as FactoryProvider<Telemetry> | undefined;
  if (provider === undefined) throw new Error('the module registers no HopTelemetry provider');
  return provider.useFactory() as Telemetry;
}

function timeBatch(telemetry: Telemetry, response: ServerResponse): number {
  const started = process.hrtime.bigint();
  for (let call = 0; call < CALLS; call += 1) {
    const delivery = telemetry.traceRequest({}, response);
    if (telemetry.startHandler(delivery, 'Counter.onBuild', 'build.updated') !== undefined) {
      throw new Error('something records: this measures the module without an SDK');
    }
  }
  return Number(process.hrtime.bigint() - started) / CALLS;
}

export function runTelemetryNoop(): TelemetryNoopResult {
  const telemetry = moduleTelemetry();
  // Never touched without an SDK: `traceRequest` returns before it listens to the response.
  const response = {} as ServerResponse;
  timeBatch(telemetry, response);
  const samples = Array.from({ length: BATCHES }, () => timeBatch(telemetry, response));
  return { nsPerDelivery: median(samples), batches: BATCHES };
}

await reportMeasurement(runTelemetryNoop, formatTelemetryNoopTable);
