import {
  Body,
  Controller,
  Injectable,
  Post,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HopSignatureGuard,
  HopWebhooksModule,
  InMemoryHopEventStore,
  OnHopEvent,
  signHopPayload,
  type HopEvent,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent, signHopDelivery } from '../../lib/testing/index.js';
import { CallRecorder, FailingHandlers, RoutingHandlers } from '../src/recording-handlers.js';
import { ADAPTERS, startTestApp, type TestApp } from '../src/test-app.js';

const SECRET = 'whsec_e2e-primary-secret-0123456789';
const OLD_SECRET = 'whsec_e2e-rotating-out-secret-9876543210';

function post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

/** An app's own route, verified by the module's guard (which needs Nest's `rawBody` there). */
@Controller('own')
class OwnRouteController {
  @Post()
  @UseGuards(HopSignatureGuard)
  receive(@Body() event: HopEvent<string>): { id: string } {
    return { id: event.id };
  }
}

/** The `message` of Nest's JSON error answer. */
async function messageOf(response: Response): Promise<string> {
  const body = (await response.json()) as { message?: unknown };
  return String(body.message);
}

describe.each(ADAPTERS)('receiving Hop webhooks on %s', (adapter) => {
  describe('with the routing and failing handlers', () => {
    let server: TestApp;
    let recorder: CallRecorder;

    beforeAll(async () => {
      server = await startTestApp(adapter, {
        imports: [HopWebhooksModule.forRoot({ secret: [SECRET, OLD_SECRET] })],
        providers: [CallRecorder, RoutingHandlers, FailingHandlers],
      });
      recorder = server.app.get(CallRecorder);
    });
    afterAll(() => server.close());

    it.each([
      ['ignite.deployment.build.updated', ['*', 'exact', 'ignite.**']],
      ['ignite.deployment.created', ['*', 'ignite.**', 'ignite.deployment.*']],
      ['project.member.created', ['*', 'array']],
      ['project.member.deleted', ['*', 'array']],
      ['project.updated', ['*']],
      ['some.future.event', ['*']],
    ])('delivers %s to exactly the matching handlers', async (name, expected) => {
      const event = buildHopEvent(name);
      const response = await postHopEvent(server.url(), event, SECRET);
      expect(response.status).toBe(204);
      expect(recorder.handlersFor(event.id)).toEqual(expected);
    });

    it('runs a spy put on a handler method after startup, as tests do', async () => {
      const handlers = server.app.get(RoutingHandlers);
      const spy = vi.spyOn(handlers, 'exact');
      try {
        const event = buildHopEvent('ignite.deployment.build.updated');
        expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
        expect(spy).toHaveBeenCalledExactlyOnceWith(event);
        expect(recorder.handlersFor(event.id)).toContain('exact');
      } finally {
        spy.mockRestore();
      }
    });

    it('hands each handler the event exactly as Hop sent it', async () => {
      const event = buildHopEvent('ignite.deployment.build.updated');
      await postHopEvent(server.url(), event, SECRET);
      const call = recorder.calls.find((c) => c.event.id === event.id && c.handler === 'exact');
      expect(call?.event).toEqual(event);
    });

    it('accepts every configured secret (rotation) and either hex case', async () => {
      const event = buildHopEvent('project.updated');
      const { body } = signHopDelivery(event, OLD_SECRET);
      const lower = signHopPayload(body, OLD_SECRET).toLowerCase();
      const response = await post(server.url(), body, {
        'content-type': 'application/json',
        'x-hop-hooks-signature': lower,
      });
      expect(response.status).toBe(204);
    });

    it.each([
      ['missing', undefined, 'X-Hop-Hooks-Signature header is missing'],
      ['empty', '', 'X-Hop-Hooks-Signature header is missing'],
      ['63 hex characters', 'A'.repeat(63), 'must be one value of 64 hexadecimal characters'],
      ['65 hex characters', 'A'.repeat(65), 'must be one value of 64 hexadecimal characters'],
      ['not hex', 'Z'.repeat(64), 'must be one value of 64 hexadecimal characters'],
      ['of another secret', 'other', 'does not match the request body'],
      ['of another body', 'body', 'does not match the request body'],
    ])(
      'answers 401 to a signature that is %s, and runs no handler',
      async (_case, kind, message) => {
        const event = buildHopEvent('ignite.deployment.build.updated');
        const body = JSON.stringify(event);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (kind === 'other')
          headers['x-hop-hooks-signature'] = signHopPayload(body, 'whsec_other');
        else if (kind === 'body')
          headers['x-hop-hooks-signature'] = signHopPayload(`${body} `, SECRET);
        else if (kind !== undefined) headers['x-hop-hooks-signature'] = kind;
        const response = await post(server.url(), body, headers);
        expect(response.status).toBe(401);
        expect(await messageOf(response)).toContain(message);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(recorder.handlersFor(event.id)).toEqual([]);
      },
    );

    it('answers 401 when the signature header is sent twice', async () => {
      const { body, headers } = signHopDelivery(buildHopEvent('project.updated'), SECRET);
      const twice = new Headers({ 'content-type': 'application/json' });
      twice.append('x-hop-hooks-signature', headers['x-hop-hooks-signature']);
      twice.append('x-hop-hooks-signature', headers['x-hop-hooks-signature']);
      const response = await fetch(server.url(), { method: 'POST', body, headers: twice });
      expect(response.status).toBe(401);
    });

    it.each([
      ['an array', '[1,2,3]', 'must be a JSON object'],
      ['without id', JSON.stringify({ event: 'project.updated', data: {} }), 'lacks `id`'],
      ['without event', JSON.stringify({ id: 'event_1', data: {} }), 'lacks `event`'],
      ['without data', JSON.stringify({ id: 'event_1', event: 'project.updated' }), 'lacks `data`'],
      [
        'with a wildcard as event name',
        JSON.stringify({ id: 'event_1', event: 'project.*', data: {} }),
        'dot-separated name',
      ],
    ])('answers 400 to a verified body that is %s', async (_case, body, message) => {
      const response = await post(server.url(), body, {
        'content-type': 'application/json',
        'x-hop-hooks-signature': signHopPayload(body, SECRET),
      });
      expect(response.status).toBe(400);
      expect(await messageOf(response)).toContain(message);
    });

    it('answers 400 to a verified body that is not JSON', async () => {
      // The route reads its body itself: no framework parser refuses it first.
      const body = 'id=event_1&event=project.updated';
      const response = await post(server.url(), body, {
        'content-type': 'application/json',
        'x-hop-hooks-signature': signHopPayload(body, SECRET),
      });
      expect(response.status).toBe(400);
      expect(await messageOf(response)).toBe('Hop event body is not valid JSON');
    });

    it('answers 400 to malformed JSON, before any handler', async () => {
      const body = '{"id": "event_broken",';
      const response = await post(server.url(), body, {
        'content-type': 'application/json',
        'x-hop-hooks-signature': signHopPayload(body, SECRET),
      });
      expect(response.status).toBe(400);
      expect(recorder.calls.some((call) => call.event.id === 'event_broken')).toBe(false);
    });

    it('answers 415 to a body that is not sent as JSON', async () => {
      const body = JSON.stringify(buildHopEvent('project.updated'));
      const response = await post(server.url(), body, {
        'content-type': 'text/plain',
        'x-hop-hooks-signature': signHopPayload(body, SECRET),
      });
      expect(response.status).toBe(415);
      expect(await messageOf(response)).toContain('application/json');
    });

    it('answers 500 when a handler throws, after every other handler has finished', async () => {
      const event = buildHopEvent('project.secrets.deleted');
      const response = await postHopEvent(server.url(), event, SECRET);
      expect(response.status).toBe(500);
      expect(await messageOf(response)).toContain('1 of 3 handlers failed');
      // The slow handler and the catch-all were awaited before the answer was sent.
      expect(recorder.handlersFor(event.id)).toEqual(['*', 'slowButFine']);
      const failure = server.logger.lines('error').find((line) => line.includes(event.id));
      expect(failure).toContain('FailingHandlers.explode');
      expect(failure).toContain('project.secrets.deleted');
      expect(failure).toContain('handler exploded on purpose');
    });

    it('names a long or unprintable event id escaped and cut short, in its answer and log line', async () => {
      const forged = `event_forged\n[Nest] 1  - ERROR [Auth] forged\u001b[31m${'x'.repeat(10_000)}`;
      const event = buildHopEvent('project.secrets.deleted', { id: forged });
      const response = await postHopEvent(server.url(), event, SECRET);
      expect(response.status).toBe(500);
      const shown =
        String.raw`Hop event event_forged\u{a}[Nest]\u{20}1\u{20}\u{20}-\u{20}ERROR\u{20}[Auth]` +
        String.raw`\u{20}forged\u{1b}[31m${'x'.repeat(15)}… (project.secrets.deleted)`;
      const answer = await messageOf(response);
      expect(answer).toBe(`1 of 3 handlers failed for ${shown}; see the application log`);
      const failures = server.logger.lines('error').filter((line) => line.includes(shown));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toContain('FailingHandlers.explode');
      for (const text of [server.logger.text(), answer]) {
        expect(text).not.toContain('forged\n');
        expect(text).not.toContain('\u001b');
        expect(text).not.toContain('x'.repeat(16));
      }
    });

    it('acknowledges a delivery whose only failing handler suppresses errors, and logs it', async () => {
      const event = buildHopEvent('project.tokens.deleted');
      const response = await postHopEvent(server.url(), event, SECRET);
      expect(response.status).toBe(204);
      const failure = server.logger.lines('error').find((line) => line.includes(event.id));
      expect(failure).toContain('FailingHandlers.rejectsQuietly');
    });

    it('never writes the secret or a raw body into a log or a response', async () => {
      const marker = 'raw-body-marker-7f3a';
      const event = buildHopEvent('project.secrets.deleted', { data: { id: marker } as never });
      const answers = [
        await postHopEvent(server.url(), event, SECRET),
        await postHopEvent(server.url(), event, 'whsec_wrong'),
        await post(server.url(), `{"${marker}":`, {
          'content-type': 'application/json',
          'x-hop-hooks-signature': signHopPayload(`{"${marker}":`, SECRET),
        }),
      ];
      const texts = await Promise.all(answers.map((answer) => answer.text()));
      const everything = `${texts.join('\n')}\n${server.logger.text()}`;
      expect(texts[0]).toContain('handlers failed');
      for (const secret of [SECRET, OLD_SECRET]) expect(everything).not.toContain(secret);
      expect(everything).not.toContain(marker);
    });

    it('logs the wired handlers at startup', () => {
      const lines = server.logger.lines('log');
      expect(lines).toContain('RoutingHandlers.exact ← ignite.deployment.build.updated');
      expect(lines).toContain('RoutingHandlers.everything ← *');
      expect(lines).toContain('Receiving Hop webhooks at POST /hop/webhook; 8 handler(s) wired');
    });
  });

  describe('app set-up', () => {
    let server: TestApp | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('guards an app route of its own with HopSignatureGuard, given rawBody: true', async () => {
      server = await startTestApp(
        adapter,
        { imports: [HopWebhooksModule.forRoot(SECRET)], controllers: [OwnRouteController] },
        { rawBody: true },
      );
      const event = buildHopEvent('project.updated');
      const signed = await postHopEvent(server.url('/own'), event, SECRET);
      expect(signed.status).toBe(201);
      expect(await signed.json()).toEqual({ id: event.id });
      expect((await postHopEvent(server.url('/own'), event, 'whsec_wrong')).status).toBe(401);
    });

    it('answers 500 naming the fix when HopSignatureGuard guards an app route without rawBody, logging it once', async () => {
      server = await startTestApp(
        adapter,
        { imports: [HopWebhooksModule.forRoot(SECRET)], controllers: [OwnRouteController] },
        { rawBody: false },
      );
      const event = buildHopEvent('project.updated');
      const first = await postHopEvent(server.url('/own'), event, SECRET);
      const second = await postHopEvent(server.url('/own'), event, SECRET);
      expect(first.status).toBe(500);
      expect(second.status).toBe(500);
      const fastify = adapter === 'fastify' ? 'new FastifyAdapter(), ' : '';
      expect(await messageOf(first)).toContain(
        `NestFactory.create(AppModule, ${fastify}{ rawBody: true })`,
      );
      const logged = server.logger.lines('error').filter((line) => line.includes('rawBody: true'));
      expect(logged).toHaveLength(1);
      // The module's own route needs no rawBody.
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    });

    it('is configured with forRootAsync from ConfigService', async () => {
      server = await startTestApp(adapter, {
        imports: [
          ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ HOP_SECRET: SECRET })] }),
          HopWebhooksModule.forRootAsync({
            imports: [ConfigModule],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              secret: config.getOrThrow<string>('HOP_SECRET'),
            }),
            path: 'async/hooks',
          }),
        ],
        providers: [CallRecorder, RoutingHandlers],
      });
      const event = buildHopEvent('ignite.deployment.build.updated');
      expect((await postHopEvent(server.url('/async/hooks'), event, SECRET)).status).toBe(204);
      expect((await postHopEvent(server.url('/async/hooks'), event, 'whsec_x')).status).toBe(401);
      expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual([
        '*',
        'exact',
        'ignite.**',
      ]);
    });

    it('mounts at a custom path under the global prefix', async () => {
      server = await startTestApp(
        adapter,
        {
          imports: [HopWebhooksModule.forRoot({ secret: SECRET, path: '/integrations/hop/' })],
          providers: [CallRecorder, RoutingHandlers],
        },
        { globalPrefix: 'api' },
      );
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url('/api/integrations/hop'), event, SECRET)).status).toBe(
        204,
      );
      expect((await postHopEvent(server.url('/hop/webhook'), event, SECRET)).status).toBe(404);
      expect((await postHopEvent(server.url('/api/hop/webhook'), event, SECRET)).status).toBe(404);
      expect(server.logger.lines('log')).toContain(
        'Receiving Hop webhooks at POST /api/integrations/hop; 5 handler(s) wired',
      );
    });

    it('applies `decorators` so that a global auth guard lets Hop through', async () => {
      const IS_PUBLIC = 'isPublic';
      @Injectable()
      class DenyUnlessPublic implements CanActivate {
        constructor(private readonly reflector: Reflector) {}
        canActivate(context: ExecutionContext): boolean {
          return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
            context.getHandler(),
            context.getClass(),
          ]);
        }
      }
      const guarded = (decorators: ClassDecorator[]) => ({
        imports: [HopWebhooksModule.forRoot({ secret: SECRET, decorators })],
        providers: [{ provide: APP_GUARD, useClass: DenyUnlessPublic }],
      });
      const event = buildHopEvent('project.updated');
      server = await startTestApp(adapter, guarded([]));
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(403);
      await server.close();
      server = await startTestApp(adapter, guarded([SetMetadata(IS_PUBLIC, true)]));
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    });

    it('acknowledges an event when the app has no handler at all', async () => {
      server = await startTestApp(adapter, { imports: [HopWebhooksModule.forRoot(SECRET)] });
      const response = await postHopEvent(server.url(), buildHopEvent('project.updated'), SECRET);
      expect(response.status).toBe(204);
    });
  });

  describe.each([
    ['without', []],
    ['with', [EventEmitterModule.forRoot()]],
    ['with a wildcard', [EventEmitterModule.forRoot({ wildcard: true })]],
  ])('%s the app’s own EventEmitterModule', (_case, emitterImports) => {
    let server: TestApp;
    let recorder: CallRecorder;

    @Injectable()
    class PlainListener {
      constructor(private readonly calls: CallRecorder) {}
      @OnEvent('hop.ignite.deployment.build.updated')
      onBuild(event: HopEvent<'ignite.deployment.build.updated'>): void {
        this.calls.record('@OnEvent', event);
      }
    }

    beforeAll(async () => {
      server = await startTestApp(adapter, {
        imports: [...emitterImports, HopWebhooksModule.forRoot(SECRET)],
        providers: [CallRecorder, RoutingHandlers, PlainListener],
      });
      recorder = server.app.get(CallRecorder);
    });
    afterAll(() => server.close());

    it('runs each matching handler exactly once per delivery', async () => {
      for (const name of ['ignite.deployment.build.updated', 'ignite.deployment.created']) {
        const event = buildHopEvent(name);
        expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
        const handlers = recorder.handlersFor(event.id).filter((handler) => handler !== '@OnEvent');
        expect(handlers).toEqual(
          name === 'ignite.deployment.created'
            ? ['*', 'ignite.**', 'ignite.deployment.*']
            : ['*', 'exact', 'ignite.**'],
        );
      }
    });

    if (emitterImports.length > 0) {
      it('re-emits on the app’s emitter, so @OnEvent("hop.…") receives the event once', async () => {
        const event = buildHopEvent('ignite.deployment.build.updated');
        await postHopEvent(server.url(), event, SECRET);
        const plain = recorder.handlersFor(event.id).filter((handler) => handler === '@OnEvent');
        expect(plain).toEqual(['@OnEvent']);
      });

      it('does not run @OnHopEvent handlers for an event the app emits itself', async () => {
        const event = buildHopEvent('ignite.deployment.build.updated');
        await server.app.get(EventEmitter2).emitAsync('hop.ignite.deployment.build.updated', event);
        // Only verified deliveries reach the module's handlers; the app's listeners still hear it.
        expect(recorder.handlersFor(event.id)).toEqual(['@OnEvent']);
      });
    }
  });
});

describe.each(ADAPTERS)('two registrations of the module on %s', (adapter) => {
  it.each([
    ['without', []],
    ['with', [EventEmitterModule.forRoot()]],
  ])(
    'runs each handler once per delivery %s the app’s EventEmitterModule',
    async (_case, emitterImports) => {
      const server = await startTestApp(adapter, {
        imports: [
          ...emitterImports,
          HopWebhooksModule.forRoot({ secret: SECRET, path: 'hop/project-a' }),
          HopWebhooksModule.forRoot({ secret: OLD_SECRET, path: 'hop/project-b' }),
        ],
        providers: [CallRecorder, RoutingHandlers],
      });
      const recorder = server.app.get(CallRecorder);
      const first = buildHopEvent('ignite.deployment.build.updated');
      const second = buildHopEvent('ignite.deployment.build.updated');
      expect((await postHopEvent(server.url('/hop/project-a'), first, SECRET)).status).toBe(204);
      expect((await postHopEvent(server.url('/hop/project-b'), second, OLD_SECRET)).status).toBe(
        204,
      );
      expect(recorder.handlersFor(first.id)).toEqual(['*', 'exact', 'ignite.**']);
      expect(recorder.handlersFor(second.id)).toEqual(['*', 'exact', 'ignite.**']);
      await server.close();
    },
  );
});

describe.each(ADAPTERS)('two registrations at two URLs of one Hop project on %s', (adapter) => {
  /** Delivers one event at both URLs; answers the handlers it ran (`*` each time). */
  async function deliverAtBoth(shared?: InMemoryHopEventStore): Promise<string[]> {
    const idempotency = shared ? { idempotency: { store: shared } } : {};
    const server = await startTestApp(adapter, {
      imports: ['hop/old-url', 'hop/new-url'].map((path) =>
        HopWebhooksModule.forRoot({ secret: SECRET, path, ...idempotency }),
      ),
      providers: [CallRecorder, RoutingHandlers],
    });
    try {
      const event = buildHopEvent('project.updated');
      for (const path of ['/hop/old-url', '/hop/new-url']) {
        expect((await postHopEvent(server.url(path), event, SECRET)).status).toBe(204);
      }
      return server.app.get(CallRecorder).handlersFor(event.id);
    } finally {
      await server.close();
    }
  }

  it('runs the event at each URL when each has its own store (the default)', async () => {
    expect(await deliverAtBoth()).toEqual(['*', '*']);
  });

  it('runs the event once when they share a store', async () => {
    expect(await deliverAtBoth(new InMemoryHopEventStore())).toEqual(['*']);
  });
});

/** Answers late: after `delayMs`. */
@Injectable()
class SlowHandler {
  delayMs = 0;
  @OnHopEvent('project.updated')
  async onUpdated(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
}

describe.each(ADAPTERS)('two registrations with different options on %s', (adapter) => {
  it('runs each delivery’s handlers under the handlerTimeoutMs of the path it came in on', async () => {
    const server = await startTestApp(adapter, {
      imports: [
        EventEmitterModule.forRoot(),
        HopWebhooksModule.forRoot({ secret: SECRET, path: 'hop/patient' }),
        HopWebhooksModule.forRoot({ secret: SECRET, path: 'hop/hasty', handlerTimeoutMs: 50 }),
      ],
      providers: [SlowHandler],
    });
    server.app.get(SlowHandler).delayMs = 300;
    const hasty = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url('/hop/hasty'), hasty, SECRET)).status).toBe(500);
    const failure = server.logger.lines('error').find((line) => line.includes(hasty.id));
    expect(failure).toContain('did not finish within handlerTimeoutMs (50 ms)');
    const patient = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url('/hop/patient'), patient, SECRET)).status).toBe(204);
    await server.close();
  });
});

/** One method whose names overlap three ways. */
@Injectable()
class OverlappingHandler {
  constructor(private readonly calls: CallRecorder) {}
  @OnHopEvent(['project.updated', 'project.*', '*'])
  onProject(event: HopEvent): void {
    this.calls.record('overlapping', event);
  }
}

describe.each(ADAPTERS)('a handler whose names overlap on %s', (adapter) => {
  it('runs once for an event that all of its names match', async () => {
    const server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot(SECRET)],
      providers: [CallRecorder, OverlappingHandler],
    });
    const event = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual(['overlapping']);
    await server.close();
  });
});

describe.each(ADAPTERS)('a custom eventPrefix on %s', (adapter) => {
  it('re-emits under it, for @OnEvent listeners, and still runs @OnHopEvent handlers', async () => {
    @Injectable()
    class PrefixedListener {
      constructor(private readonly calls: CallRecorder) {}
      @OnEvent('integrations.hop.project.updated')
      onUpdated(event: HopEvent<'project.updated'>): void {
        this.calls.record('@OnEvent', event);
      }
      @OnEvent('hop.project.updated')
      onDefaultPrefix(event: HopEvent<'project.updated'>): void {
        this.calls.record('@OnEvent with the default prefix', event);
      }
    }
    const server = await startTestApp(adapter, {
      imports: [
        EventEmitterModule.forRoot(),
        HopWebhooksModule.forRoot({ secret: SECRET, eventPrefix: 'integrations.hop' }),
      ],
      providers: [CallRecorder, RoutingHandlers, PrefixedListener],
    });
    const event = buildHopEvent('project.updated');
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual(['*', '@OnEvent']);
    await server.close();
  });
});
