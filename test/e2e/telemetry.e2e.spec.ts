// The module's OpenTelemetry spans and metrics, read from the real SDK's in-memory exporters
// while real deliveries reach a real app: what each kind of delivery records, under which
// parent, how each metric is named and described, and that no secret or body gets into any of
// it. Without an SDK, the same deliveries get the same answers.
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { metrics, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Queue } from 'bullmq';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HopWebhooksModule,
  InMemoryHopEventStore,
  OnHopEvent,
  signHopPayload,
  type HopEvent,
  type HopEventClaim,
  type HopEventStore,
} from '../../lib/index.js';
import { buildHopEvent, signHopDelivery } from '../../lib/testing/index.js';
import { gate } from '../src/gate.js';
import { startRedis, startRestartableRedis } from '../src/redis-server.js';
import { ADAPTERS, startTestApp, type AdapterKind, type TestApp } from '../src/test-app.js';
import { InMemoryTelemetrySdk, type MetricPoint } from '../src/telemetry-sdk.js';

const SECRET = 'whsec_telemetry-spec-secret-0123456789';
const OTHER_SECRET = 'whsec_telemetry-spec-other-secret-9876543210';
const STORE_TIMEOUT_MS = 100;
// The replay window: an event older than this is refused.
const MAX_EVENT_AGE_SECONDS = 3_600;
// The default bodyLimit (1 MiB).
const BODY_LIMIT = 1_048_576;
// How long Redis is given to take a job before the delivery is answered 503.
const QUEUE_ADD_TIMEOUT_MS = 300;

/** Thrown by handlers on purpose: its class is the handler span's `error.type`. */
class HandlerFault extends Error {
  override name = 'HandlerFault';
}

/**
 * Two handlers for one event: one by its name, one by a wildcard. Each notes the span active
 * while it runs (the parent of any span its own code would start), by event id.
 */
@Injectable()
class DeploymentHandlers {
  readonly activeSpans = new Map<string, string | undefined>();

  @OnHopEvent('ignite.deployment.created')
  notify(event: HopEvent<string>): void {
    this.activeSpans.set(`notify ${event.id}`, trace.getActiveSpan()?.spanContext().spanId);
  }

  // Settles a turn later than its sibling: the delivery span waits for both.
  @OnHopEvent('ignite.deployment.*')
  async audit(event: HopEvent<string>): Promise<void> {
    await Promise.resolve();
    this.activeSpans.set(`audit ${event.id}`, trace.getActiveSpan()?.spanContext().spanId);
  }
}

@Injectable()
class FaultyHandlers {
  @OnHopEvent('project.secrets.deleted')
  explode(): never {
    throw new HandlerFault('exploded on purpose');
  }

  @OnHopEvent('project.secrets.deleted')
  recordDeletion(): void {}

  @OnHopEvent('project.tokens.deleted', { suppressErrors: true })
  async rejectQuietly(): Promise<void> {
    throw new HandlerFault('suppressed on purpose');
  }
}

/** The app's own listener of a re-emitted Hop event, which fails (so fails the delivery). */
@Injectable()
class FailingListener {
  @OnEvent('hop.project.member.deleted', { suppressErrors: false })
  async reject(): Promise<void> {
    throw new Error('listener failed on purpose');
  }
}

/** Holds `project.updated` deliveries until the test lets them go, to see them in flight. */
@Injectable()
class GatedHandler {
  waiting = 0;
  private open!: () => void;
  private gate = this.close();

  @OnHopEvent('project.updated')
  async wait(): Promise<void> {
    this.waiting++;
    await this.gate;
  }

  release(): void {
    this.open();
    this.gate = this.close();
    this.waiting = 0;
  }

  private close(): Promise<void> {
    return new Promise((resolve) => (this.open = resolve));
  }
}

/** `fail`: the claim rejects; `hang`: it never answers. */
type Outage = 'fail' | 'hang';

/** The in-memory store, whose claims fail while an outage is on. */
class OutageStore implements HopEventStore {
  private readonly inner = new InMemoryHopEventStore();
  outage: Outage | undefined;

  claim(eventId: string, leaseMs: number): Promise<HopEventClaim> {
    if (this.outage === 'fail') return Promise.reject(new Error('store down on purpose'));
    if (this.outage === 'hang') return new Promise<never>(() => undefined);
    return this.inner.claim(eventId, leaseMs);
  }

  complete(eventId: string): Promise<void> {
    return this.inner.complete(eventId);
  }

  release(eventId: string): Promise<void> {
    return this.inner.release(eventId);
  }
}

/** A delivery's answer, and the W3C trace it was sent in (by `traceparent`, as Hop's could be). */
interface Answer {
  readonly status: number;
  readonly traceId: string;
  /** The sender's span, the parent of the HTTP server span. */
  readonly senderSpanId: string;
}

interface App {
  readonly server: TestApp;
  readonly store: OutageStore;
  readonly gated: GatedHandler;
}

async function startApp(adapter: AdapterKind): Promise<App> {
  const store = new OutageStore();
  const server = await startTestApp(adapter, {
    imports: [
      EventEmitterModule.forRoot(),
      HopWebhooksModule.forRoot({
        secret: SECRET,
        idempotency: { store, storeTimeoutMs: STORE_TIMEOUT_MS },
        maxEventAgeSeconds: MAX_EVENT_AGE_SECONDS,
      }),
    ],
    providers: [DeploymentHandlers, FaultyHandlers, FailingListener, GatedHandler],
  });
  return { server, store, gated: server.app.get(GatedHandler) };
}

async function post(
  app: Pick<App, 'server'>,
  body: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const traceId = randomBytes(16).toString('hex');
  const senderSpanId = randomBytes(8).toString('hex');
  const response = await fetch(app.server.url(), {
    method: 'POST',
    body,
    headers: { ...headers, traceparent: `00-${traceId}-${senderSpanId}-01` },
  });
  await response.arrayBuffer();
  return { status: response.status, traceId, senderSpanId };
}

/** A delivery sent on a connection of its own, which the sender closes before the answer. */
interface CutOff {
  readonly traceId: string;
  hangUp(): void;
}

/**
 * Sends a signed delivery's headers and the first `part` of its body (all of it unless told),
 * in a W3C trace as {@link post} does, and keeps the connection open until `hangUp`.
 */
function sendThenHangUp(app: Pick<App, 'server'>, event: HopEvent<string>, part = 1): CutOff {
  const { body, headers } = signHopDelivery(event, SECRET);
  const bytes = Buffer.from(body);
  const traceId = randomBytes(16).toString('hex');
  const url = new URL(app.server.url());
  const head = [
    `POST ${url.pathname} HTTP/1.1`,
    `host: ${url.host}`,
    `content-length: ${bytes.length}`,
    `traceparent: 00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  const socket = connect(Number(url.port), url.hostname);
  socket.write(
    Buffer.concat([
      Buffer.from(`${head.join('\r\n')}\r\n\r\n`),
      bytes.subarray(0, Math.floor(bytes.length * part)),
    ]),
  );
  return { traceId, hangUp: () => socket.destroy() };
}

function deliver(
  app: Pick<App, 'server'>,
  event: HopEvent<string>,
  secret = SECRET,
): Promise<Answer> {
  const { body, headers } = signHopDelivery(event, secret);
  return post(app, body, headers);
}

function unsigned(app: App, event: HopEvent<string>): Promise<Answer> {
  return post(app, JSON.stringify(event), { 'content-type': 'application/json' });
}

/** Any body, signed with the app's secret. */
function signed(app: App, body: string): Promise<Answer> {
  return post(app, body, {
    'content-type': 'application/json',
    'x-hop-hooks-signature': signHopPayload(body, SECRET),
  });
}

/** A signed event one byte over the bodyLimit, sent whole with its `Content-Length`. */
function oversized(app: App): Promise<Answer> {
  const event = buildHopEvent('ignite.deployment.created');
  const padding = BODY_LIMIT + 1 - JSON.stringify({ ...event, padding: '' }).length;
  return deliver(app, { ...event, padding: 'x'.repeat(padding) } as HopEvent<string>);
}

/** A signed body that is not a Hop event: it has no `id`. */
function malformed(app: App, data: unknown = {}): Promise<Answer> {
  return signed(app, JSON.stringify({ event: 'project.updated', data }));
}

async function duringOutage(
  app: App,
  outage: Outage,
  send: () => Promise<Answer>,
): Promise<Answer> {
  app.store.outage = outage;
  try {
    return await send();
  } finally {
    app.store.outage = undefined;
  }
}

/** Every kind of delivery, with the status Hop gets for it whether an SDK is registered or not. */
const DELIVERIES: ReadonlyArray<readonly [string, number, (app: App) => Promise<Answer>]> = [
  ['a handled delivery', 204, (app) => deliver(app, buildHopEvent('ignite.deployment.created'))],
  [
    'a duplicate',
    204,
    async (app) => {
      const event = buildHopEvent('ignite.deployment.created');
      await deliver(app, event);
      return deliver(app, event);
    },
  ],
  ['a wrong signature', 401, (app) => deliver(app, buildHopEvent('project.updated'), OTHER_SECRET)],
  ['no signature', 401, (app) => unsigned(app, buildHopEvent('project.updated'))],
  ['a malformed payload', 400, (app) => malformed(app)],
  ['a failing handler', 500, (app) => deliver(app, buildHopEvent('project.secrets.deleted'))],
  [
    'a failing handler with suppressErrors',
    204,
    (app) => deliver(app, buildHopEvent('project.tokens.deleted')),
  ],
  [
    'a store that fails',
    503,
    (app) => duringOutage(app, 'fail', () => deliver(app, buildHopEvent('project.member.created'))),
  ],
  [
    'a store that does not answer',
    503,
    (app) => duringOutage(app, 'hang', () => deliver(app, buildHopEvent('project.member.created'))),
  ],
];

// The errors the deliveries above make the app log; anything else is a fault of the module.
const EXPECTED_ERROR = /^(Handler FaultyHandlers\.\w+ failed|Event store failed) for Hop event /;

describe('without an OpenTelemetry SDK', () => {
  beforeAll(() => {
    // The API's no-op: nothing registered, by this file or another before it.
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: App;

    beforeAll(async () => {
      app = await startApp(adapter);
    });
    afterAll(() => app.server.close());

    it.each(DELIVERIES)('answers %s with %i, as with one', async (_kind, status, send) => {
      const logged = app.server.logger.lines('error').length;
      expect((await send(app)).status).toBe(status);
      const errors = app.server.logger.lines('error').slice(logged);
      expect(errors.filter((line) => !EXPECTED_ERROR.test(line))).toEqual([]);
    });
  });
});

describe('with the OpenTelemetry SDK registered before the app is created', () => {
  let sdk: InMemoryTelemetrySdk;

  beforeAll(() => {
    sdk = InMemoryTelemetrySdk.register();
  });
  afterAll(() => sdk.shutdown());

  /** The spans of one delivery, once its own has ended. */
  async function spansOf(answer: Pick<Answer, 'traceId'>) {
    const ofKind = (kind: SpanKind) =>
      sdk.spansOf(answer.traceId).filter((span) => span.kind === kind);
    await expect
      .poll(() => ofKind(SpanKind.SERVER).length + ofKind(SpanKind.CONSUMER).length)
      .toBe(2);
    return {
      server: only(ofKind(SpanKind.SERVER)),
      delivery: only(ofKind(SpanKind.CONSUMER)),
      // By name, the order of their labels.
      handlers: ofKind(SpanKind.INTERNAL)
        .filter((span) => span.instrumentationScope.name === 'nestjs-hop-webhooks')
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** The points of one metric measured since the test began. */
  async function pointsOf(metric: string): Promise<MetricPoint[]> {
    return (await sdk.collectMetrics()).get(metric) ?? [];
  }

  describe.each(ADAPTERS)('on %s', (adapter) => {
    let app: App;

    beforeAll(async () => {
      app = await startApp(adapter);
    });
    afterAll(() => app.server.close());
    // What earlier tests measured is not this one's.
    beforeEach(() => sdk.collectMetrics());
    afterEach(() => app.gated.release());

    it('traces a handled delivery in a CONSUMER span under the HTTP server span, with a child span per handler', async () => {
      const event = buildHopEvent('ignite.deployment.created');
      const answer = await deliver(app, event);
      expect(answer.status).toBe(204);

      const { server, delivery, handlers } = await spansOf(answer);
      expect(server.parentSpanContext?.spanId).toBe(answer.senderSpanId);
      expect(delivery.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(delivery.name).toBe('process ignite.deployment.created');
      expect(delivery.attributes).toEqual({
        'messaging.system': 'hop',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.message.id': event.id,
        'messaging.destination.name': 'ignite.deployment.created',
        'hop.webhook.id': event.webhook_id,
        'hop.project.id': event.project_id,
        'hop.delivery.outcome': 'handled',
        'http.response.status_code': 204,
      });
      expect(delivery.status.code).toBe(SpanStatusCode.UNSET);

      expect(names(handlers)).toEqual(['DeploymentHandlers.audit', 'DeploymentHandlers.notify']);
      const { activeSpans } = app.server.app.get(DeploymentHandlers);
      for (const handler of handlers) {
        expect(handler.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
        expect(handler.attributes).toEqual({ 'code.function.name': handler.name });
        expect(handler.status.code).toBe(SpanStatusCode.UNSET);
        // The handler's code runs in its span, before and after an await.
        const method = handler.name.split('.')[1];
        expect(activeSpans.get(`${method} ${event.id}`)).toBe(handler.spanContext().spanId);
      }

      const metrics = await sdk.collectMetrics();
      const on = { 'messaging.destination.name': 'ignite.deployment.created' };
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(1, { ...on, 'hop.delivery.outcome': 'handled', 'http.response.status_code': 204 }),
      ]);
      expectPoints(metrics.get('hop.webhook.handler.duration'), [
        point(1, {
          ...on,
          'code.function.name': 'DeploymentHandlers.audit',
          'hop.handler.outcome': 'success',
        }),
        point(1, {
          ...on,
          'code.function.name': 'DeploymentHandlers.notify',
          'hop.handler.outcome': 'success',
        }),
      ]);
    });

    it('marks a duplicate as such, runs no handler, and counts it', async () => {
      const event = buildHopEvent('ignite.deployment.created');
      await spansOf(await deliver(app, event));
      const again = await deliver(app, event);
      expect(again.status).toBe(204);

      const { delivery, handlers } = await spansOf(again);
      expect(delivery.attributes).toMatchObject({
        'messaging.message.id': event.id,
        'hop.delivery.outcome': 'duplicate',
        'http.response.status_code': 204,
      });
      expect(delivery.status.code).toBe(SpanStatusCode.UNSET);
      expect(handlers).toEqual([]);

      const metrics = await sdk.collectMetrics();
      const duplicate = {
        'messaging.destination.name': 'ignite.deployment.created',
        'hop.delivery.outcome': 'duplicate',
        'http.response.status_code': 204,
      };
      expect(metrics.get('hop.webhook.duplicates')).toEqual([point(1, duplicate)]);
      expectPoints(metrics.get('hop.webhook.deliveries'), [
        point(1, { ...duplicate, 'hop.delivery.outcome': 'handled' }),
        point(1, duplicate),
      ]);
      expect(metrics.get('hop.webhook.handler.duration')).toHaveLength(2); // the first's only
    });

    it.each<[string, number, () => Promise<Answer>]>([
      [
        'signature_mismatch',
        401,
        () => deliver(app, buildHopEvent('ignite.deployment.created'), OTHER_SECRET),
      ],
      ['signature_missing', 401, () => unsigned(app, buildHopEvent('ignite.deployment.created'))],
      ['envelope_invalid', 400, () => malformed(app)],
      ['body_not_json', 400, () => signed(app, '{"id": "event_broken",')],
      ['body_too_large', 413, () => oversized(app)],
    ])(
      'refuses a delivery for %s (%i) under the HTTP server span, naming no event',
      async (errorType, status, send) => {
        const answer = await send();
        expect(answer.status).toBe(status);

        const { server, delivery, handlers } = await spansOf(answer);
        expect(delivery.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
        expect(delivery.name).toBe('process hop.webhook');
        expect(delivery.attributes).toEqual({
          'messaging.system': 'hop',
          'messaging.operation.name': 'process',
          'messaging.operation.type': 'process',
          'hop.delivery.outcome': 'refused',
          'http.response.status_code': status,
          'error.type': errorType,
        });
        // As on an HTTP server span, a 4xx is the sender's error, not the receiver's.
        expect(delivery.status.code).toBe(SpanStatusCode.UNSET);
        expect(handlers).toEqual([]);

        expect(await pointsOf('hop.webhook.deliveries')).toEqual([
          point(1, {
            'hop.delivery.outcome': 'refused',
            'http.response.status_code': status,
            'error.type': errorType,
          }),
        ]);
      },
    );

    it('refuses an event older than maxEventAgeSeconds (422) for event_too_old, naming the event, and runs no handler', async () => {
      const occurredAt = new Date(Date.now() - 2 * MAX_EVENT_AGE_SECONDS * 1_000);
      const event = buildHopEvent('ignite.deployment.created', {
        occurred_at: occurredAt.toISOString(),
      });
      const answer = await deliver(app, event);
      expect(answer.status).toBe(422);

      const { delivery, handlers } = await spansOf(answer);
      expect(delivery.name).toBe('process ignite.deployment.created');
      expect(delivery.attributes).toMatchObject({
        'messaging.message.id': event.id,
        'hop.delivery.outcome': 'refused',
        'http.response.status_code': 422,
        'error.type': 'event_too_old',
      });
      expect(delivery.status.code).toBe(SpanStatusCode.UNSET);
      expect(handlers).toEqual([]);

      const metrics = await sdk.collectMetrics();
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(1, {
          'messaging.destination.name': 'ignite.deployment.created',
          'hop.delivery.outcome': 'refused',
          'http.response.status_code': 422,
          'error.type': 'event_too_old',
        }),
      ]);
      expect(metrics.get('hop.webhook.handler.duration')).toBeUndefined();
    });

    it('refuses a delivery that arrives while the app shuts down (503) for shutting_down, an error on its span as any 5xx, and answers the one in progress', async () => {
      const closing = await startApp(adapter);
      let closed: Promise<void> | undefined;
      try {
        const inProgress = deliver(closing, buildHopEvent('project.updated'));
        await expect.poll(() => closing.gated.waiting).toBe(1);
        // Draining starts within the promise jobs of close(), before a new request can arrive.
        closed = closing.server.close();
        const event = buildHopEvent('ignite.deployment.created');
        const answer = await deliver(closing, event);
        expect(answer.status).toBe(503);
        closing.gated.release();
        expect((await inProgress).status).toBe(204);
        await closed;

        const { delivery, handlers } = await spansOf(answer);
        expect(delivery.attributes).toMatchObject({
          'messaging.message.id': event.id,
          'hop.delivery.outcome': 'refused',
          'http.response.status_code': 503,
          'error.type': 'shutting_down',
        });
        expect(delivery.status).toEqual({ code: SpanStatusCode.ERROR, message: 'shutting_down' });
        expect(handlers).toEqual([]);

        const metrics = await sdk.collectMetrics();
        expect(metrics.get('hop.webhook.active_deliveries')).toEqual([point(0, {})]);
        expectPoints(metrics.get('hop.webhook.deliveries'), [
          point(1, {
            'messaging.destination.name': 'project.updated',
            'hop.delivery.outcome': 'handled',
            'http.response.status_code': 204,
          }),
          point(1, {
            'messaging.destination.name': 'ignite.deployment.created',
            'hop.delivery.outcome': 'refused',
            'http.response.status_code': 503,
            'error.type': 'shutting_down',
          }),
        ]);
      } finally {
        closing.gated.release();
        await (closed ?? closing.server.close());
      }
    });

    it('fails the delivery (500) for listener_failed when an @OnEvent listener of the app rejects', async () => {
      const event = buildHopEvent('project.member.deleted');
      const answer = await deliver(app, event);
      expect(answer.status).toBe(500);

      const { delivery } = await spansOf(answer);
      expect(delivery.attributes).toMatchObject({
        'messaging.message.id': event.id,
        'hop.delivery.outcome': 'failed',
        'http.response.status_code': 500,
        'error.type': 'listener_failed',
      });
      expect(delivery.status).toEqual({ code: SpanStatusCode.ERROR, message: 'listener_failed' });

      expect(await pointsOf('hop.webhook.deliveries')).toEqual([
        point(1, {
          'messaging.destination.name': 'project.member.deleted',
          'hop.delivery.outcome': 'failed',
          'http.response.status_code': 500,
          'error.type': 'listener_failed',
        }),
      ]);
    });

    it('records a failing handler on its span and fails the delivery (500), its sibling not', async () => {
      const event = buildHopEvent('project.secrets.deleted');
      const answer = await deliver(app, event);
      expect(answer.status).toBe(500);

      const { delivery, handlers } = await spansOf(answer);
      expect(delivery.status.code).toBe(SpanStatusCode.ERROR);
      expect(delivery.attributes).toMatchObject({
        'messaging.message.id': event.id,
        'hop.delivery.outcome': 'failed',
        'http.response.status_code': 500,
        'error.type': 'handler_failed',
      });

      expect(names(handlers)).toEqual(['FaultyHandlers.explode', 'FaultyHandlers.recordDeletion']);
      const [failed, sibling] = handlers;
      expect(failed.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
      expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'exploded on purpose' });
      expect(failed.attributes).toEqual({
        'code.function.name': 'FaultyHandlers.explode',
        'error.type': 'HandlerFault',
        'hop.handler.error_suppressed': false,
      });
      expect(failed.events.map(({ name, attributes }) => ({ name, attributes }))).toEqual([
        {
          name: 'exception',
          attributes: expect.objectContaining({
            'exception.type': 'HandlerFault',
            'exception.message': 'exploded on purpose',
          }),
        },
      ]);
      expect(sibling.status.code).toBe(SpanStatusCode.UNSET);

      const metrics = await sdk.collectMetrics();
      const on = { 'messaging.destination.name': 'project.secrets.deleted' };
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(1, {
          ...on,
          'hop.delivery.outcome': 'failed',
          'http.response.status_code': 500,
          'error.type': 'handler_failed',
        }),
      ]);
      expectPoints(metrics.get('hop.webhook.handler.duration'), [
        point(1, {
          ...on,
          'code.function.name': 'FaultyHandlers.explode',
          'hop.handler.outcome': 'failure',
          'error.type': 'HandlerFault',
        }),
        point(1, {
          ...on,
          'code.function.name': 'FaultyHandlers.recordDeletion',
          'hop.handler.outcome': 'success',
        }),
      ]);
    });

    it('records a suppressed failure on the handler span, and the delivery as handled', async () => {
      const answer = await deliver(app, buildHopEvent('project.tokens.deleted'));
      expect(answer.status).toBe(204);

      const { delivery, handlers } = await spansOf(answer);
      expect(delivery.status.code).toBe(SpanStatusCode.UNSET);
      expect(delivery.attributes).toMatchObject({ 'hop.delivery.outcome': 'handled' });
      expect(delivery.attributes).not.toHaveProperty('error.type');
      const handler = only(handlers);
      expect(handler.status.code).toBe(SpanStatusCode.ERROR);
      expect(handler.attributes).toMatchObject({
        'error.type': 'HandlerFault',
        'hop.handler.error_suppressed': true,
      });
      expect(handler.events.map((e) => e.name)).toEqual(['exception']);

      expect(await pointsOf('hop.webhook.handler.duration')).toEqual([
        point(1, {
          'messaging.destination.name': 'project.tokens.deleted',
          'code.function.name': 'FaultyHandlers.rejectQuietly',
          'hop.handler.outcome': 'failure',
          'error.type': 'HandlerFault',
        }),
      ]);
    });

    it.each<[Outage, string]>([
      ['fail', 'error'],
      ['hang', 'timeout'],
    ])(
      'fails the delivery (503) when the store claim does not succeed (%s), and counts a store %s',
      async (outage, storeError) => {
        const event = buildHopEvent('project.member.created');
        const answer = await duringOutage(app, outage, () => deliver(app, event));
        expect(answer.status).toBe(503);

        const { delivery, handlers } = await spansOf(answer);
        expect(delivery.status.code).toBe(SpanStatusCode.ERROR);
        expect(delivery.attributes).toMatchObject({
          'messaging.message.id': event.id,
          'hop.delivery.outcome': 'failed',
          'http.response.status_code': 503,
          'error.type': 'store_unavailable',
        });
        expect(handlers).toEqual([]);

        const metrics = await sdk.collectMetrics();
        expect(metrics.get('hop.webhook.store.errors')).toEqual([
          point(1, { 'hop.store.operation': 'claim', 'error.type': storeError }),
        ]);
        expect(metrics.get('hop.webhook.deliveries')).toEqual([
          point(1, {
            'messaging.destination.name': 'project.member.created',
            'hop.delivery.outcome': 'failed',
            'http.response.status_code': 503,
            'error.type': 'store_unavailable',
          }),
        ]);
      },
    );

    it('counts deliveries in flight, and none once all are answered', async () => {
      const held = Array.from({ length: 3 }, () => deliver(app, buildHopEvent('project.updated')));
      await expect.poll(() => app.gated.waiting).toBe(3);
      expect(await pointsOf('hop.webhook.active_deliveries')).toEqual([point(3, {})]);

      app.gated.release();
      const answers = await Promise.all(held);
      expect(answers.map((answer) => answer.status)).toEqual([204, 204, 204]);
      await Promise.all(answers.map(spansOf));

      const metrics = await sdk.collectMetrics();
      expect(metrics.get('hop.webhook.active_deliveries')).toEqual([point(0, {})]);
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(3, {
          'messaging.destination.name': 'project.updated',
          'hop.delivery.outcome': 'handled',
          'http.response.status_code': 204,
        }),
      ]);
    });

    it('records a delivery whose sender hung up before the answer when it did: failed, with no status', async () => {
      const cutOff = sendThenHangUp(app, buildHopEvent('project.updated'));
      await expect.poll(() => app.gated.waiting).toBe(1);
      cutOff.hangUp();
      // Ended with the connection, while its handler runs on.
      const { delivery } = await spansOf(cutOff);
      expect(app.gated.waiting).toBe(1);
      app.gated.release();
      expect(delivery.attributes).toMatchObject({
        'hop.delivery.outcome': 'failed',
        'error.type': 'connection_closed',
      });
      expect(delivery.attributes).not.toHaveProperty('http.response.status_code');
      expect(delivery.status.code).toBe(SpanStatusCode.ERROR);

      const metrics = await sdk.collectMetrics();
      expect(metrics.get('hop.webhook.active_deliveries')).toEqual([point(0, {})]);
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(1, {
          'messaging.destination.name': 'project.updated',
          'hop.delivery.outcome': 'failed',
          'error.type': 'connection_closed',
        }),
      ]);
    });

    it('records a delivery whose sender hung up halfway through the body as refused for body_incomplete, with no status', async () => {
      const cutOff = sendThenHangUp(app, buildHopEvent('project.updated'), 0.5);
      // Being read: the first half is in, the rest never comes.
      await expect.poll(() => pointsOf('hop.webhook.active_deliveries')).toEqual([point(1, {})]);
      cutOff.hangUp();

      const { delivery, handlers } = await spansOf(cutOff);
      expect(delivery.attributes).toEqual({
        'messaging.system': 'hop',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'hop.delivery.outcome': 'refused',
        'error.type': 'body_incomplete',
      });
      // As for a 4xx: the sender's error, not the receiver's.
      expect(delivery.status.code).toBe(SpanStatusCode.UNSET);
      expect(handlers).toEqual([]);

      const metrics = await sdk.collectMetrics();
      expect(metrics.get('hop.webhook.active_deliveries')).toEqual([point(0, {})]);
      expect(metrics.get('hop.webhook.deliveries')).toEqual([
        point(1, { 'hop.delivery.outcome': 'refused', 'error.type': 'body_incomplete' }),
      ]);
    });

    it('records a delivery that reached the route after its sender hung up, with no status', async () => {
      const held = gate();
      let arrived = 0;
      // A middleware of the app's own that makes the request wait, as a slow one would.
      const late = await startTestApp(
        adapter,
        { imports: [HopWebhooksModule.forRoot({ secret: SECRET })] },
        {
          configure: (nest) =>
            nest.use((_request: unknown, _response: unknown, next: () => void) => {
              arrived += 1;
              void held.opened.then(next);
            }),
        },
      );
      try {
        const cutOff = sendThenHangUp({ server: late }, buildHopEvent('project.updated'));
        await expect.poll(() => arrived).toBe(1);
        cutOff.hangUp();
        await expect
          .poll(() => sdk.spansOf(cutOff.traceId).some((span) => span.kind === SpanKind.SERVER))
          .toBe(true);
        held.open();
        const { delivery } = await spansOf(cutOff);
        expect(delivery.attributes).not.toHaveProperty('http.response.status_code');
        // On Express the route's body reader runs before the app's middleware, on Fastify after.
        expect(delivery.attributes).toMatchObject(
          adapter === 'express'
            ? { 'hop.delivery.outcome': 'failed', 'error.type': 'connection_closed' }
            : { 'hop.delivery.outcome': 'refused', 'error.type': 'body_incomplete' },
        );
        expect(await pointsOf('hop.webhook.active_deliveries')).toEqual([point(0, {})]);
      } finally {
        held.open();
        await late.close();
      }
    });

    it('lets neither the secret nor a body reach a span, a span event or a metric point', async () => {
      const marker = `body-marker-${randomUUID()}`;
      const example = buildHopEvent('ignite.deployment.created');
      const handled = { ...example, data: { ...example.data, name: marker } };
      const failing = buildHopEvent('project.secrets.deleted', { data: { name: marker } });
      const sent = {
        handled: JSON.stringify(handled),
        signature: signHopDelivery(handled, SECRET).headers['x-hop-hooks-signature'],
      };
      const answers = [
        await deliver(app, handled),
        await deliver(app, handled),
        await deliver(app, failing),
        await deliver(
          app,
          buildHopEvent('project.updated', { data: { name: marker } }),
          OTHER_SECRET,
        ),
        await malformed(app, { name: marker }),
        await signed(app, `{"id": "${marker}",`),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([204, 204, 500, 401, 400, 400]);
      await Promise.all(answers.map(spansOf));

      const spans = sdk.finishedSpans().map(exported).join('\n');
      const points = [...(await sdk.collectMetrics()).values()].flat();
      const attributes = JSON.stringify(points.map((p) => p.attributes));
      for (const recorded of [spans, attributes]) {
        for (const secret of [SECRET, OTHER_SECRET, marker, sent.handled, sent.signature]) {
          expect(recorded).not.toContain(secret);
        }
      }
      // What was looked through is there: the deliveries' spans and their metric points.
      expect(spans).toContain(handled.id);
      expect(attributes).toContain('ignite.deployment.created');
    });
  });

  describe.each(ADAPTERS)('in queue mode on %s', (adapter) => {
    // What earlier tests measured is not this one's.
    beforeEach(() => sdk.collectMetrics());

    it("answers a queued delivery in its span, and the worker's handler spans continue its trace", async (context) => {
      const redis = await startRedis();
      if ('unavailable' in redis) return context.skip(redis.unavailable);
      const { hostname, port } = new URL(redis.url);
      const queue = new Queue(`hop-telemetry-${adapter}`, {
        connection: { host: hostname, port: Number(port) },
      });
      const server = await startTestApp(adapter, {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET, queue: { queue } })],
        providers: [DeploymentHandlers],
      });
      try {
        const event = buildHopEvent('ignite.deployment.created');
        const answer = await deliver({ server }, event);
        expect(answer.status).toBe(204);

        const { delivery } = await spansOf(answer);
        expect(delivery.attributes).toMatchObject({
          'messaging.message.id': event.id,
          'hop.delivery.outcome': 'queued',
          'http.response.status_code': 204,
        });
        // Run later by the worker, in the trace the job carried from the delivery.
        await expect.poll(() => spansOf(answer).then(({ handlers }) => handlers.length)).toBe(2);
        const { handlers } = await spansOf(answer);
        expect(names(handlers)).toEqual(['DeploymentHandlers.audit', 'DeploymentHandlers.notify']);
        for (const handler of handlers) {
          expect(handler.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
        }
      } finally {
        await server.close();
        await queue.close();
        await redis.stop();
      }
    });

    it("fails a delivery whose job the queue's Redis does not take (503) for queue_unavailable", async (context) => {
      const redis = await startRestartableRedis();
      if ('unavailable' in redis) return context.skip(redis.unavailable);
      context.onTestFinished(() => redis.stop());
      const { hostname, port } = new URL(redis.url);
      const queue = new Queue(`hop-telemetry-down-${adapter}`, {
        connection: { host: hostname, port: Number(port) },
      });
      // A Queue re-emits its connection's errors (Redis down), which must not go unheard.
      queue.on('error', () => {});
      context.onTestFinished(async () => {
        // A queue closes once its Redis answers.
        await redis.restart();
        await queue.close();
      });
      const server = await startTestApp(adapter, {
        imports: [
          HopWebhooksModule.forRoot({
            secret: SECRET,
            queue: { queue, worker: false, addTimeoutMs: QUEUE_ADD_TIMEOUT_MS },
          }),
        ],
        providers: [DeploymentHandlers],
      });
      try {
        await queue.waitUntilReady();
        await redis.kill('SIGKILL');
        const event = buildHopEvent('ignite.deployment.created');
        const answer = await deliver({ server }, event);
        expect(answer.status).toBe(503);

        const { delivery, handlers } = await spansOf(answer);
        expect(delivery.attributes).toMatchObject({
          'messaging.message.id': event.id,
          'hop.delivery.outcome': 'failed',
          'http.response.status_code': 503,
          'error.type': 'queue_unavailable',
        });
        expect(delivery.status).toEqual({
          code: SpanStatusCode.ERROR,
          message: 'queue_unavailable',
        });
        expect(handlers).toEqual([]);

        const metrics = await sdk.collectMetrics();
        expect(metrics.get('hop.webhook.deliveries')).toEqual([
          point(1, {
            'messaging.destination.name': 'ignite.deployment.created',
            'hop.delivery.outcome': 'failed',
            'http.response.status_code': 503,
            'error.type': 'queue_unavailable',
          }),
        ]);
      } finally {
        await server.close();
      }
    });
  });
});

/** A metric as the SDK exports it: what a backend shows of it beside its points. */
interface RecordedMetric {
  readonly name: string;
  readonly instrument: 'counter' | 'up-down counter' | 'histogram';
  readonly unit: string;
  readonly description: string;
  /** A histogram's bucket boundaries. */
  readonly boundaries?: readonly number[];
}

// Each metric the module records, as the README's table and the telemetry code say.
const RECORDED_METRICS: readonly RecordedMetric[] = [
  {
    name: 'hop.webhook.active_deliveries',
    instrument: 'up-down counter',
    unit: '{delivery}',
    description: 'Hop webhook deliveries being received or handled now',
  },
  {
    name: 'hop.webhook.deliveries',
    instrument: 'counter',
    unit: '{delivery}',
    description: 'Hop webhook deliveries answered, by event, outcome and status',
  },
  {
    name: 'hop.webhook.duplicates',
    instrument: 'counter',
    unit: '{delivery}',
    description: 'Deliveries of an event already handled, acknowledged without running handlers',
  },
  {
    name: 'hop.webhook.handler.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'How long each @OnHopEvent handler took, by handler and outcome',
    // From a millisecond to a minute.
    boundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  {
    name: 'hop.webhook.store.errors',
    instrument: 'counter',
    unit: '{error}',
    description: 'Idempotency store calls that failed or did not answer in time',
  },
];

describe.each(ADAPTERS)('the metrics the module records, on %s', (adapter) => {
  it('are named, typed, described and bucketed as documented, under the scope nestjs-hop-webhooks, and no others', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    // Exported when the test flushes it, not on a timer.
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    // Registered only if no other test left its own in place.
    expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
    const app = await startApp(adapter);
    try {
      // A delivery handled, then again (a duplicate), and one the store fails: each metric
      // gets a point.
      const event = buildHopEvent('ignite.deployment.created');
      const answers = [
        await deliver(app, event),
        await deliver(app, event),
        await duringOutage(app, 'fail', () =>
          deliver(app, buildHopEvent('project.member.created')),
        ),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([204, 204, 503]);
      await meterProvider.forceFlush();

      const exported = exporter.getMetrics();
      const scopes = exported.flatMap(({ scopeMetrics }) => scopeMetrics);
      expect(scopes.map(({ scope }) => scope.name)).toEqual(['nestjs-hop-webhooks']);
      expect(recordedMetrics(exported)).toEqual(RECORDED_METRICS);
    } finally {
      await app.server.close();
      await meterProvider.shutdown();
      metrics.disable();
    }
  });
});

/** What each exported metric is, by name. */
function recordedMetrics(exported: ResourceMetrics[]): RecordedMetric[] {
  return exported
    .flatMap(({ scopeMetrics }) => scopeMetrics.flatMap((scope) => scope.metrics))
    .map((metric) => {
      const { name, unit, description } = metric.descriptor;
      const recorded = { name, instrument: instrumentOf(metric), unit, description };
      if (metric.dataPointType !== DataPointType.HISTOGRAM) return recorded;
      const boundaries = metric.dataPoints.map((p) => p.value.buckets.boundaries);
      // Every point has the same buckets.
      expect(new Set(boundaries.map(String)).size).toBe(1);
      return { ...recorded, boundaries: boundaries[0] };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function instrumentOf(metric: MetricData): RecordedMetric['instrument'] {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'up-down counter';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      throw new Error(
        `${metric.descriptor.name}: unexpected data point type ${metric.dataPointType}`,
      );
  }
}

function only(spans: ReadableSpan[]): ReadableSpan {
  expect(spans).toHaveLength(1);
  return spans[0];
}

function names(spans: ReadableSpan[]): string[] {
  return spans.map((span) => span.name);
}

function point(value: number, attributes: Attributes): MetricPoint {
  return { value, attributes };
}

/** These points and no others, in any order. */
function expectPoints(actual: MetricPoint[] | undefined, expected: MetricPoint[]): void {
  expect(actual).toHaveLength(expected.length);
  expect(actual).toEqual(expect.arrayContaining(expected));
}

/** All that an exporter sends of a span, as text. */
function exported(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events.map(({ name, attributes }) => ({ name, attributes })),
    status: span.status,
    links: span.links,
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  });
}
