// Loaded only by the servers that measure the module with an SDK registered: the others load no
// more of OpenTelemetry than an app without an SDK does.
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * Registers the OpenTelemetry SDK as an app would before creating the Nest app: traces through
 * a batch processor, metrics read every second, both into in-memory exporters emptied every
 * second so that memory stays flat under load.
 */
export function registerOpenTelemetrySdk(): void {
  const spans = new InMemorySpanExporter();
  new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans)] }).register();
  const points = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: points,
    exportIntervalMillis: 1000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  setInterval(() => {
    spans.reset();
    points.reset();
  }, 1000).unref();
}
