import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createRequire } from 'node:module';

/** A metric reader the test collects from when it wants to, instead of on a timer. */
class CollectingMetricReader extends MetricReader {
  constructor() {
    // Delta: each collection holds what was measured since the last one, so a test sees its
    // own measurements only. The number in flight stays cumulative: a test reads its level.
    super({
      aggregationTemporalitySelector: (type) =>
        type === InstrumentType.UP_DOWN_COUNTER
          ? AggregationTemporality.CUMULATIVE
          : AggregationTemporality.DELTA,
    });
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** One point of a metric: its attributes and, for a counter, its value; for a histogram, its count. */
export interface MetricPoint {
  readonly attributes: Attributes;
  readonly value: number;
}

/**
 * The app's OpenTelemetry SDK as a Node app registers it before creating Nest: a tracer
 * provider with Node's context manager and the W3C propagator, a meter provider, and the HTTP
 * instrumentation, whose server span is the parent of the module's delivery span. Spans and
 * metrics stay in memory for the test to read.
 */
export class InMemoryTelemetrySdk {
  private readonly spans = new InMemorySpanExporter();
  private readonly tracerProvider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(this.spans)],
  });
  private readonly reader = new CollectingMetricReader();
  private readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  private readonly unregisterInstrumentations: () => void;

  private constructor() {
    this.tracerProvider.register();
    metrics.setGlobalMeterProvider(this.meterProvider);
    this.unregisterInstrumentations = registerInstrumentations({
      instrumentations: [new HttpInstrumentation()],
      tracerProvider: this.tracerProvider,
      meterProvider: this.meterProvider,
    });
    // The instrumentation patches `http.Server` when `http` is required next; Node loaded it
    // already (Vitest did), so require it once more for the patch to apply.
    createRequire(import.meta.url)('node:http');
  }

  /** Registers the SDK globally; call it before the Nest app is created. */
  static register(): InMemoryTelemetrySdk {
    return new InMemoryTelemetrySdk();
  }

  /** Every span ended so far. */
  finishedSpans(): ReadableSpan[] {
    return this.spans.getFinishedSpans();
  }

  /** The ended spans of one trace. */
  spansOf(traceId: string): ReadableSpan[] {
    return this.finishedSpans().filter((span) => span.spanContext().traceId === traceId);
  }

  /**
   * The points of the metrics measured since the last call, by metric name: a counter's by
   * its value, a histogram's by its count (the number in flight: its level now).
   */
  async collectMetrics(): Promise<Map<string, MetricPoint[]>> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    const byName = new Map<string, MetricPoint[]>();
    for (const { metrics: scopeMetrics } of resourceMetrics.scopeMetrics) {
      for (const metric of scopeMetrics) {
        const points = (metric.dataPoints as DataPoint<number | Histogram>[]).map((point) => ({
          attributes: point.attributes,
          value: typeof point.value === 'number' ? point.value : point.value.count,
        }));
        byName.set(metric.descriptor.name, [
          ...(byName.get(metric.descriptor.name) ?? []),
          ...points,
        ]);
      }
    }
    return byName;
  }

  /** Stops the instrumentation, shuts the providers down and unregisters the globals. */
  async shutdown(): Promise<void> {
    this.unregisterInstrumentations();
    await Promise.all([this.tracerProvider.shutdown(), this.meterProvider.shutdown()]);
    trace.disable();
    metrics.disable();
    context.disable();
    propagation.disable();
  }
}
