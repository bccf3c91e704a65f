import {
  context as otelContext,
  createNoopMeter,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Span,
  type Tracer,
  type UpDownCounter,
} from '@opentelemetry/api';
import type { ServerResponse } from 'node:http';
import type { HopEvent } from './event.types.js';
import { describeError, type HopWebhookError } from './errors.js';
import { HopTimeoutError } from './settle-within.js';

/** Where a webhook request keeps its delivery's trace, from the body reader to the handlers. */
export const HOP_DELIVERY = Symbol.for('nestjs-hop-webhooks.delivery');

/** The instrumentation scope of the module's spans and metrics. */
export const HOP_TELEMETRY_SCOPE = 'nestjs-hop-webhooks';

/**
 * What became of a delivery:
 * - `handled`: its handlers ran and succeeded (2xx);
 * - `queued`: in queue mode, its job is in Redis (2xx); the handlers run in a worker;
 * - `duplicate`: its event id was handled before, so nothing ran (2xx);
 * - `refused`: it was answered 4xx, or 503 while the app shut down, before any handler ran
 *   (bad signature, body or payload; an event too old; see `error.type`);
 * - `failed`: a handler, a listener or the event store failed (5xx; see `error.type`).
 */
export type HopDeliveryOutcome = 'handled' | 'queued' | 'duplicate' | 'refused' | 'failed';

/**
 * Why a delivery was refused or failed, as the `error.type` attribute says it: a
 * {@link HopWebhookError} code for what the receiver refused, else one of these (or, for an
 * answer the module did not choose, such as an app guard's 403, the status code).
 */
export type HopDeliveryErrorType =
  | HopWebhookError['code']
  | 'event_too_old'
  | 'event_in_future'
  | 'event_time_invalid'
  | 'shutting_down'
  | 'store_unavailable'
  | 'queue_unavailable'
  | 'handler_failed'
  | 'listener_failed'
  | 'concurrent_delivery_pending'
  | 'connection_closed';

/** Attribute keys: OpenTelemetry's semantic conventions where one applies, `hop.*` otherwise. */
export const HOP_ATTRIBUTES = {
  messagingSystem: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  eventId: 'messaging.message.id',
  eventName: 'messaging.destination.name',
  webhookId: 'hop.webhook.id',
  projectId: 'hop.project.id',
  outcome: 'hop.delivery.outcome',
  status: 'http.response.status_code',
  errorType: 'error.type',
  handler: 'code.function.name',
  handlerOutcome: 'hop.handler.outcome',
  suppressed: 'hop.handler.error_suppressed',
  storeOperation: 'hop.store.operation',
} as const;

/** Metric names. */
export const HOP_METRICS = {
  deliveries: 'hop.webhook.deliveries',
  activeDeliveries: 'hop.webhook.active_deliveries',
  duplicates: 'hop.webhook.duplicates',
  handlerDuration: 'hop.webhook.handler.duration',
  storeErrors: 'hop.webhook.store.errors',
} as const;

/** What a handler threw, and whether its `suppressErrors` acknowledges the delivery anyway. */
export interface HopHandlerFailure {
  readonly error: unknown;
  readonly suppressed: boolean;
}

/** The store operations `hop.webhook.store.errors` counts. */
export type HopStoreOperation = 'claim' | 'complete' | 'release';

// What every delivery span says from its start.
const DELIVERY_ATTRIBUTES: Attributes = Object.freeze({
  [HOP_ATTRIBUTES.messagingSystem]: 'hop',
  [HOP_ATTRIBUTES.operationName]: 'process',
  [HOP_ATTRIBUTES.operationType]: 'process',
});

// Handler durations in seconds, from a millisecond to a minute.
const HANDLER_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * The module's traces and metrics, through `@opentelemetry/api` alone. Without an SDK
 * registered by the app, nothing records, and a delivery costs one no-op span started to ask
 * so: no trace object, no listener, no context. The meter is taken when the module is created,
 * so an app registers its meter provider before creating the Nest app (as OpenTelemetry asks
 * anyway); the tracer follows whatever provider is registered, whenever.
 */
export class HopTelemetry {
  private readonly tracer: Tracer = trace.getTracer(HOP_TELEMETRY_SCOPE);
  /** Whether a meter provider was registered when the module was created. */
  private readonly measuring: boolean;
  private readonly deliveries: Counter;
  private readonly active: UpDownCounter;
  private readonly duplicates: Counter;
  private readonly handlerDuration: Histogram;
  private readonly storeErrors: Counter;

  constructor() {
    const meter = metrics.getMeter(HOP_TELEMETRY_SCOPE);
    this.measuring = meter.constructor !== createNoopMeter().constructor;
    this.deliveries = meter.createCounter(HOP_METRICS.deliveries, {
      description: 'Hop webhook deliveries answered, by event, outcome and status',
      unit: '{delivery}',
      valueType: ValueType.INT,
    });
    this.active = meter.createUpDownCounter(HOP_METRICS.activeDeliveries, {
      description: 'Hop webhook deliveries being received or handled now',
      unit: '{delivery}',
      valueType: ValueType.INT,
    });
    this.duplicates = meter.createCounter(HOP_METRICS.duplicates, {
      description: 'Deliveries of an event already handled, acknowledged without running handlers',
      unit: '{delivery}',
      valueType: ValueType.INT,
    });
    this.handlerDuration = meter.createHistogram(HOP_METRICS.handlerDuration, {
      description: 'How long each @OnHopEvent handler took, by handler and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: HANDLER_DURATION_BUCKETS },
    });
    this.storeErrors = meter.createCounter(HOP_METRICS.storeErrors, {
      description: 'Idempotency store calls that failed or did not answer in time',
      unit: '{error}',
      valueType: ValueType.INT,
    });
  }

  /**
   * Starts the trace of the delivery this request brings: a span, a child of the span active
   * now (the HTTP server span of the app's instrumentation, if any), counted in flight. It is
   * kept on the request under {@link HOP_DELIVERY} and ends when the response has gone out,
   * or the connection closed first. `undefined` when nothing records.
   */
  traceRequest(
    request: { [HOP_DELIVERY]?: HopDeliveryTrace },
    response: ServerResponse,
  ): HopDeliveryTrace | undefined {
    const parent = otelContext.active();
    const span = this.tracer.startSpan(
      'process hop.webhook',
      { kind: SpanKind.CONSUMER, attributes: DELIVERY_ATTRIBUTES },
      parent,
    );
    const recording = span.isRecording();
    if (!recording && !this.measuring) return undefined;
    if (this.measuring) this.active.add(1);
    const delivery = new HopDeliveryTrace(
      this,
      span,
      recording ? trace.setSpan(parent, span) : parent,
    );
    request[HOP_DELIVERY] = delivery;
    // A request can reach the route after its sender hung up (an app's hook made it wait).
    if (response.destroyed) delivery.closed(response);
    else response.once('close', () => delivery.closed(response));
    return delivery;
  }

  /**
   * Starts a handler's span, a child of the delivery's (or of the span active now, in a queue
   * worker). `undefined` when nothing records.
   * @internal
   */
  startHandler(
    delivery: HopDeliveryTrace | undefined,
    label: string,
    eventName: string,
  ): HopHandlerTrace | undefined {
    const parent = delivery?.context ?? otelContext.active();
    const span = this.tracer.startSpan(
      label,
      { kind: SpanKind.INTERNAL, attributes: { [HOP_ATTRIBUTES.handler]: label } },
      parent,
    );
    const recording = span.isRecording();
    if (!recording && !this.measuring) return undefined;
    return new HopHandlerTrace(this, span, recording ? trace.setSpan(parent, span) : parent, {
      [HOP_ATTRIBUTES.eventName]: eventName,
      [HOP_ATTRIBUTES.handler]: label,
    });
  }

  /**
   * The delivery's trace context as W3C `traceparent` (and `tracestate`) entries, for a queued
   * job to carry to its worker; `undefined` when nothing records or no propagator is set.
   * @internal
   */
  carrierOf(delivery: HopDeliveryTrace | undefined): Record<string, string> | undefined {
    if (delivery === undefined) return undefined;
    const carrier: Record<string, string> = {};
    propagation.inject(delivery.context, carrier);
    return Object.keys(carrier).length === 0 ? undefined : carrier;
  }

  /**
   * Calls `fn` in the trace context a queued job carries, so that its handlers' spans continue
   * the delivery's trace; as it is without one.
   * @internal
   */
  runInCarrier<T>(carrier: Record<string, string> | undefined, fn: () => T): T {
    if (carrier === undefined) return fn();
    return otelContext.with(propagation.extract(otelContext.active(), carrier), fn);
  }

  /**
   * Calls `fn` in the delivery's context (the app's `@OnEvent` listeners, say), or as it is
   * without one.
   * @internal
   */
  runInDelivery<T>(delivery: HopDeliveryTrace | undefined, fn: () => T): T {
    return delivery === undefined ? fn() : otelContext.with(delivery.context, fn);
  }

  /** Counts a store call that failed (`error`) or did not answer in time (`timeout`). */
  recordStoreError(operation: HopStoreOperation, timedOut: boolean): void {
    this.storeErrors.add(1, {
      [HOP_ATTRIBUTES.storeOperation]: operation,
      [HOP_ATTRIBUTES.errorType]: timedOut ? 'timeout' : 'error',
    });
  }

  /** @internal */
  recordHandler(seconds: number, attributes: Attributes): void {
    if (this.measuring) this.handlerDuration.record(seconds, attributes);
  }

  /** @internal */
  recordDelivery(attributes: Attributes, duplicate: boolean): void {
    if (!this.measuring) return;
    this.active.add(-1);
    this.deliveries.add(1, attributes);
    if (duplicate) this.duplicates.add(1, attributes);
  }
}

/**
 * One handler's run: its span (the active one while the handler's code runs) and its
 * duration, recorded by outcome when it ends.
 * @internal
 */
export class HopHandlerTrace {
  private readonly startedMs = performance.now();

  constructor(
    private readonly telemetry: HopTelemetry,
    private readonly span: Span,
    private readonly context: Context,
    private readonly attributes: Attributes,
  ) {}

  /** Calls the handler with its span active, so that spans its code starts are children. */
  run<T>(fn: () => T): T {
    return otelContext.with(this.context, fn);
  }

  /** Ends the span, its error recorded if the handler failed, and records the duration. */
  end(failure: HopHandlerFailure | undefined): void {
    const { attributes, span } = this;
    attributes[HOP_ATTRIBUTES.handlerOutcome] = failure === undefined ? 'success' : 'failure';
    if (failure !== undefined) {
      const { error, suppressed } = failure;
      attributes[HOP_ATTRIBUTES.errorType] = errorTypeOf(error);
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttributes({
        [HOP_ATTRIBUTES.errorType]: attributes[HOP_ATTRIBUTES.errorType],
        [HOP_ATTRIBUTES.suppressed]: suppressed,
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
    }
    span.end();
    this.telemetry.recordHandler((performance.now() - this.startedMs) / 1000, attributes);
  }
}

/**
 * One delivery's span and what is known of it so far; the receiver's steps say what they
 * learn, and {@link end} closes it with the status answered.
 */
export class HopDeliveryTrace {
  private eventName: string | undefined;
  private outcome: HopDeliveryOutcome | undefined;
  private errorType: string | undefined;
  private ended = false;

  /** @internal */
  constructor(
    private readonly telemetry: HopTelemetry,
    readonly span: Span,
    /** The delivery's context, the parent of its handlers' spans. */
    readonly context: Context,
  ) {}

  /** The event was verified: its id, name, webhook and project name the span from now on. */
  verified(event: HopEvent<string>): void {
    this.eventName = event.event;
    this.span.updateName(`process ${event.event}`);
    this.span.setAttributes({
      [HOP_ATTRIBUTES.eventId]: event.id,
      [HOP_ATTRIBUTES.eventName]: event.event,
      [HOP_ATTRIBUTES.webhookId]: event.webhook_id,
      [HOP_ATTRIBUTES.projectId]: event.project_id,
    });
  }

  /** Queue mode: the event's job is in Redis, for a worker to run. */
  queued(): void {
    this.outcome = 'queued';
  }

  /** Nothing ran: the event id was handled before. */
  duplicate(): void {
    this.outcome = 'duplicate';
  }

  /** Answered before any handler ran, for this reason. */
  refused(reason: HopDeliveryErrorType): void {
    this.outcome = 'refused';
    this.errorType = reason;
  }

  /** A handler, a listener or the store failed. The first reason given stands. */
  failed(reason: HopDeliveryErrorType): void {
    if (this.outcome === 'failed') return;
    this.outcome = 'failed';
    this.errorType = reason;
  }

  /**
   * The response's connection closed: the delivery ends, answered if the app had answered.
   * Cut off before, it ends once what the hang-up set off has had its turn, so that a reason
   * it gives (the body reader's `body_incomplete`) is the one recorded.
   * @internal
   */
  closed(response: ServerResponse): void {
    if (response.writableEnded) this.end(response.statusCode, response.writableFinished);
    else setImmediate(() => this.end(response.statusCode, false));
  }

  /**
   * Closes the delivery with the status its response went out with (`answered`), or with none
   * when the connection closed first: it then failed for `connection_closed`, unless a step
   * gave a reason. An outcome no step named follows the status: 2xx handled, 5xx failed, else
   * refused, with the status as `error.type`.
   */
  private end(status: number, answered: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (!answered && this.errorType === undefined) this.failed('connection_closed');
    const outcome = this.outcome ?? outcomeOfStatus(status);
    const errorType =
      this.errorType ?? (outcome === 'refused' || outcome === 'failed' ? `${status}` : undefined);
    // Unanswered, `statusCode` is only what would have gone out (Node's 200, Nest's 204).
    const attributes: Attributes = answered
      ? { [HOP_ATTRIBUTES.outcome]: outcome, [HOP_ATTRIBUTES.status]: status }
      : { [HOP_ATTRIBUTES.outcome]: outcome };
    if (this.eventName !== undefined) attributes[HOP_ATTRIBUTES.eventName] = this.eventName;
    if (errorType !== undefined) attributes[HOP_ATTRIBUTES.errorType] = errorType;
    this.span.setAttributes(attributes);
    // As for an HTTP server span: a 4xx is the sender's error, not this delivery's; so is a
    // body the sender cut short.
    if (answered ? status >= 500 : outcome === 'failed') {
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
    }
    this.span.end();
    this.telemetry.recordDelivery(attributes, outcome === 'duplicate');
  }
}

function outcomeOfStatus(status: number): HopDeliveryOutcome {
  if (status >= 200 && status < 300) return 'handled';
  return status >= 500 ? 'failed' : 'refused';
}

/** `error.type` for something a handler threw: its class name, or `timeout`. */
function errorTypeOf(error: unknown): string {
  if (error instanceof HopTimeoutError) return 'timeout';
  if (error instanceof Error) return error.constructor.name;
  return typeof error;
}
