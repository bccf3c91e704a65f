import {
  Body,
  Controller,
  HttpCode,
  Post,
  VERSION_NEUTRAL,
  VersioningType,
  type INestApplication,
} from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { HopWebhooksModule, type HopWebhooksRouteVersion } from '../../lib/index.js';
import { buildHopEvent, postHopEvent, signHopDelivery } from '../../lib/testing/index.js';
import { CallRecorder, RoutingHandlers } from '../src/recording-handlers.js';
import { ADAPTERS, startTestApp, startupError, type TestApp } from '../src/test-app.js';
import { thrownBy } from '../src/thrown-by.js';

const SECRET = 'whsec_routing-spec-secret-0123456789';

/** An app route of its own that one of the webhook route's paths would also match. */
@Controller('hooks')
class SpecialHooksController {
  @Post('special')
  @HttpCode(200)
  special(@Body() body: unknown): unknown {
    return { route: 'app', body };
  }
}

const uriVersioning = (app: INestApplication) =>
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
const headerVersioning = (app: INestApplication) =>
  app.enableVersioning({
    type: VersioningType.HEADER,
    header: 'X-API-Version',
    defaultVersion: '1',
  });

describe.each(ADAPTERS)('where the route answers, on %s', (adapter) => {
  let server: TestApp | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(
    configure: (app: INestApplication) => void,
    extras: { version?: HopWebhooksRouteVersion; path?: string } = {},
    globalPrefix?: string,
  ): Promise<TestApp> {
    server = await startTestApp(
      adapter,
      {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET, ...extras })],
        providers: [CallRecorder, RoutingHandlers],
      },
      { configure, globalPrefix },
    );
    return server;
  }

  /** Posts a signed event to `path` and answers its status, and whether a handler saw it. */
  async function deliver(app: TestApp, path: string): Promise<[number, boolean]> {
    const event = buildHopEvent('project.updated');
    const { status } = await postHopEvent(app.url(path), event, SECRET);
    return [status, app.app.get(CallRecorder).handlersFor(event.id).length > 0];
  }

  const startupLine = (app: TestApp) =>
    app.logger.lines('log').find((line) => line.startsWith('Receiving Hop webhooks at '));

  it('stays at its path under URI versioning with a default version (version-neutral)', async () => {
    const app = await start(uriVersioning);
    expect(await deliver(app, '/hop/webhook')).toEqual([204, true]);
    expect(await deliver(app, '/v1/hop/webhook')).toEqual([404, false]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook; 5 handler(s) wired',
    );
  });

  it('answers without a version header under header versioning', async () => {
    const app = await start(headerVersioning);
    expect(await deliver(app, '/hop/webhook')).toEqual([204, true]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook; 5 handler(s) wired',
    );
  });

  it('moves to /v2 with `version: "2"` under URI versioning, prefix first, and logs it', async () => {
    const app = await start(uriVersioning, { version: '2' }, 'api');
    expect(await deliver(app, '/api/v2/hop/webhook')).toEqual([204, true]);
    expect(await deliver(app, '/api/hop/webhook')).toEqual([404, false]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /api/v2/hop/webhook; 5 handler(s) wired',
    );
  });

  it('lists every path of a route with several versions', async () => {
    const app = await start(uriVersioning, { version: [VERSION_NEUTRAL, '2'] });
    expect(await deliver(app, '/hop/webhook')).toEqual([204, true]);
    expect(await deliver(app, '/v2/hop/webhook')).toEqual([204, true]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook, POST /v2/hop/webhook; 5 handler(s) wired',
    );
  });

  it('names the header version a versioned route needs, since its path does not show it', async () => {
    const app = await start(headerVersioning, { version: '2' });
    const event = buildHopEvent('project.updated');
    const { body, headers } = signHopDelivery(event, SECRET);
    const versioned = { ...headers, 'X-API-Version': '2' };
    const response = await fetch(app.url(), { method: 'POST', body, headers: versioned });
    expect(response.status).toBe(204);
    expect(await deliver(app, '/hop/webhook')).toEqual([404, false]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook (header version 2); 5 handler(s) wired',
    );
  });

  it('ignores `version` in an app without versioning', async () => {
    const app = await start(() => undefined, { version: '2' });
    expect(await deliver(app, '/hop/webhook')).toEqual([204, true]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook; 5 handler(s) wired',
    );
  });

  /** Posts a body that is not JSON under a signature that does not match it. */
  async function postUnsigned(app: TestApp, path: string): Promise<[number, string]> {
    const response = await fetch(app.url(path), {
      method: 'POST',
      body: '{"id": NOT-JSON',
      headers: { 'content-type': 'application/json', 'x-hop-hooks-signature': '0'.repeat(64) },
    });
    return [response.status, await response.text()];
  }

  it('answers at a path with a route parameter, verifying before anything parses', async () => {
    const app = await start(() => undefined, { path: 'hooks/:tenant' });
    expect(await deliver(app, '/hooks/acme')).toEqual([204, true]);
    expect(await deliver(app, '/hooks/other-tenant')).toEqual([204, true]);
    const [status, answer] = await postUnsigned(app, '/hooks/acme');
    expect(status).toBe(401);
    expect(answer).not.toContain('NOT-JSON');
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hooks/:tenant; 5 handler(s) wired',
    );
  });

  it('answers under a global prefix with a route parameter', async () => {
    const app = await start(() => undefined, {}, 't/:tenant');
    expect(await deliver(app, '/t/acme/hop/webhook')).toEqual([204, true]);
    const [status, answer] = await postUnsigned(app, '/t/acme/hop/webhook');
    expect(status).toBe(401);
    expect(answer).not.toContain('NOT-JSON');
  });

  it('leaves a request that an app route registered before it takes to that route and its parser', async () => {
    server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot({ secret: SECRET, path: 'hooks/:tenant' })],
      controllers: [SpecialHooksController],
      providers: [CallRecorder, RoutingHandlers],
    });
    const response = await fetch(server.url('/hooks/special'), {
      method: 'POST',
      body: JSON.stringify({ kept: true }),
      headers: { 'content-type': 'application/json' },
    });
    expect([response.status, await response.json()]).toEqual([
      200,
      { route: 'app', body: { kept: true } },
    ]);
    expect(await deliver(server, '/hooks/acme')).toEqual([204, true]);
  });

  it('logs the path without the global prefix when the route is excluded from it', async () => {
    const app = await start((nest) => nest.setGlobalPrefix('api', { exclude: ['hop/webhook'] }));
    expect(await deliver(app, '/hop/webhook')).toEqual([204, true]);
    expect(await deliver(app, '/api/hop/webhook')).toEqual([404, false]);
    expect(startupLine(app)).toBe(
      'Receiving Hop webhooks at POST /hop/webhook; 5 handler(s) wired',
    );
  });
});

describe('the route on Express', () => {
  let server: TestApp | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses to start with a path Express 5 cannot match, naming the fix', async () => {
    const error = await startupError({
      imports: [HopWebhooksModule.forRoot({ secret: SECRET, path: 'hooks/*' })],
    });
    expect(error).toMatchObject({
      name: 'HopConfigurationError',
      message: expect.stringContaining('POST /hooks/* is not a path Express 5 can match'),
    });
  });

  it('matches as the router Express made matches, whatever is set on the app later', async () => {
    server = await startTestApp(
      'express',
      {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET })],
        providers: [CallRecorder, RoutingHandlers],
      },
      // Too late for Express: its router was made with the settings as they were.
      { configure: (app) => app.getHttpAdapter().getInstance().set('strict routing', true) },
    );
    const event = buildHopEvent('project.updated');
    const { status } = await postHopEvent(server.url('/hop/webhook/'), event, SECRET);
    expect(status).toBe(204);
    expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual(['*']);
  });
});

describe('the version option', () => {
  it('refuses an empty version where the module is imported, naming the option', () => {
    expect(
      thrownBy(() => HopWebhooksModule.forRoot({ secret: SECRET, version: '' })),
    ).toMatchObject({
      name: 'HopConfigurationError',
      message: expect.stringContaining('`version` must be a version'),
    });
  });
});
