// The webhook route reads its own body: no `rawBody: true` needed, nothing parsed before the
// signature is verified, its own size limit, and the app's other routes exactly as they were.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Injectable,
  Logger,
  Module,
  Post,
  VersioningType,
  type INestApplication,
  type NestApplicationOptions,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HopConfigurationError,
  HopWebhooksModule,
  OnHopEvent,
  signHopPayload,
  type HopEvent,
} from '../../lib/index.js';
import { buildHopEvent, postHopEvent, signHopDelivery } from '../../lib/testing/index.js';
import { ADAPTERS, startTestApp, startupError, type AdapterKind } from '../src/test-app.js';

const SECRET = 'whsec_raw-body-spec-secret-0123456789';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Keeps every event the app's `@OnHopEvent` handler was given. */
@Injectable()
class ReceivedEvents {
  readonly events: HopEvent<string>[] = [];

  @OnHopEvent('*')
  record(event: HopEvent<string>): void {
    this.events.push(event);
  }

  byId(id: string): HopEvent<string>[] {
    return this.events.filter((event) => event.id === id);
  }
}

/** What an app's body parser made of a body, as the echo route reports it. */
function kindOf(body: unknown): string {
  if (body === undefined) return 'undefined';
  if (body === null) return 'null';
  if (Buffer.isBuffer(body)) return 'Buffer';
  return Array.isArray(body) ? 'array' : typeof body;
}

/** An app's own JSON route: answers what its body parser made of the body. */
@Controller('other')
class EchoController {
  @Post()
  echo(@Body() body: unknown): unknown {
    return { kind: kindOf(body), body: Buffer.isBuffer(body) ? body.toString('utf8') : body };
  }
}

/** The status, headers and text of an answer. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * What {@link send} sends as the body: the whole of it with its `Content-Length`, a list of
 * chunks (`Transfer-Encoding: chunked`), or `null` for the headers only, the body never sent.
 */
type SentBody = string | Buffer | readonly string[] | null;

/**
 * Sends a `POST` with `node:http` on a connection of its own and resolves with the answer.
 * Unlike `fetch` it gets the answer a server sends before it has read the body (413 or 415
 * with `Connection: close`): an error writing the rest of the body after the answer came is
 * ignored. A `null` body is never sent: the headers go out alone (`flushHeaders`) and the
 * request is dropped once answered.
 */
function send(
  url: string,
  headers: Record<string, string | number>,
  body: SentBody,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const allHeaders = { ...headers };
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      allHeaders['content-length'] ??= Buffer.byteLength(body);
    } else if (body !== null) {
      allHeaders['transfer-encoding'] = 'chunked';
    }
    const request = httpRequest(url, { method: 'POST', headers: allHeaders, agent: false });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
        request.destroy();
      });
    });
    if (body === null) {
      request.flushHeaders();
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      request.end(body);
    } else {
      for (const chunk of body) {
        if (answered) break;
        request.write(chunk);
      }
      if (!answered) request.end();
    }
  });
}

/** The `message` of Nest's JSON error answer. */
function messageOf(answer: Answer): string {
  return String((JSON.parse(answer.text) as { message?: unknown }).message);
}

/** JSON text of exactly `bytes` bytes: `{"pad":"xxx…"}`. */
function jsonOfSize(bytes: number): string {
  const frame = '{"pad":""}';
  return `{"pad":"${'x'.repeat(bytes - frame.length)}"}`;
}

/** A Hop event whose JSON text is exactly `bytes` bytes long, and that text. */
function eventOfSize(bytes: number): { event: HopEvent<string>; body: string } {
  const fields = { id: `event_size_${randomUUID()}`, occurred_at: new Date().toISOString() };
  const frame = Buffer.byteLength(
    JSON.stringify(buildHopEvent('test.raw_body', { ...fields, data: { pad: '' } })),
  );
  const data = { pad: 'x'.repeat(bytes - frame) };
  const event = buildHopEvent('test.raw_body', { ...fields, data });
  const body = JSON.stringify(event);
  expect(Buffer.byteLength(body)).toBe(bytes);
  return { event, body };
}

/** The headers of a delivery of `body` signed with the module's secret. */
function signed(body: string | Buffer, secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-hop-hooks-signature': signHopPayload(body, secret),
  };
}

/** Whether any window of `size` characters of `body` appears in `text`. */
function quotesAnyOf(text: string, body: string, size = 6): boolean {
  for (let start = 0; start + size <= body.length; start++) {
    if (text.includes(body.slice(start, start + size))) return true;
  }
  return false;
}

/** A started app on loopback. */
interface RunningApp {
  readonly app: INestApplication;
  url(path: string): string;
  close(): Promise<void>;
}

async function listen(app: INestApplication): Promise<RunningApp> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: (path) => `http://127.0.0.1:${port}${path}`, close: () => app.close() };
}

function httpAdapter(adapter: AdapterKind): ExpressAdapter | FastifyAdapter {
  return adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
}

/** The app's root module: the echo route, and the webhook module when `withHop`. */
function appModule(withHop: boolean): Type {
  @Module({
    imports: withHop ? [HopWebhooksModule.forRoot({ secret: SECRET })] : [],
    controllers: [EchoController],
    providers: withHop ? [ReceivedEvents] : [],
  })
  class AppModule {}
  return AppModule;
}

/** One way an app is made; `prefix` is where both its routes are. */
interface AppSetUp {
  readonly name: string;
  readonly prefix: string;
  /** Whether the app's own route has the frameworks' default parsers and limits. */
  readonly frameworkDefaults?: boolean;
  create(module: Type, adapter: AdapterKind): Promise<INestApplication>;
}

const SET_UPS: readonly AppSetUp[] = [
  {
    name: '(a) NestFactory.create with no options',
    prefix: '',
    frameworkDefaults: true,
    create: (module, adapter) => NestFactory.create(module, httpAdapter(adapter)),
  },
  {
    name: '(b) rawBody: true',
    prefix: '',
    create: (module, adapter) =>
      NestFactory.create(module, httpAdapter(adapter), { rawBody: true, logger: false }),
  },
  {
    name: '(c) bodyParser: false',
    prefix: '',
    create: (module, adapter) =>
      NestFactory.create(module, httpAdapter(adapter), { bodyParser: false, logger: false }),
  },
  {
    name: "(d) bodyParser: false and useBodyParser with the app's own 64-byte limit",
    prefix: '',
    create: async (module, adapter) => {
      const options: NestApplicationOptions = { bodyParser: false, logger: false };
      if (adapter === 'express') {
        const app = await NestFactory.create<NestExpressApplication>(
          module,
          new ExpressAdapter(),
          options,
        );
        return app.useBodyParser('json', { limit: '64b' });
      }
      const app = await NestFactory.create<NestFastifyApplication>(
        module,
        new FastifyAdapter(),
        options,
      );
      return app.useBodyParser('application/json', { bodyLimit: 64 });
    },
  },
  {
    name: "(e) global prefix 'api' and URI versioning",
    prefix: '/api',
    create: async (module, adapter) => {
      const app = await NestFactory.create(module, httpAdapter(adapter), { logger: false });
      app.setGlobalPrefix('api');
      app.enableVersioning({ type: VersioningType.URI });
      return app;
    },
  },
  {
    name: '(f) Test.createTestingModule(...).compile() and createNestApplication()',
    prefix: '',
    create: async (module, adapter) => {
      const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
      return moduleRef.createNestApplication(httpAdapter(adapter), { logger: false });
    },
  },
];

/** Bodies sent to the app's own route, the same to the app with and without the module. */
const OWN_ROUTE_BODIES: ReadonlyArray<readonly [string, string]> = [
  ['valid JSON', '{"hello":"world","n":1}'],
  ['a __proto__ key', '{"__proto__":{"polluted":true},"a":1}'],
  ['malformed JSON', '{"hello":'],
  ['150 kB of JSON (over Express’s default 100kb)', jsonOfSize(150_000)],
  ['1.2 MB of JSON (over Fastify’s default 1 MiB)', jsonOfSize(1_200_000)],
];

/** The status of each of {@link OWN_ROUTE_BODIES} under the frameworks' defaults. */
const DEFAULT_OWN_ROUTE_STATUSES: Record<AdapterKind, readonly number[]> = {
  express: [201, 201, 400, 413, 413],
  fastify: [201, 400, 400, 201, 413],
};

/** What the app answers to `body` on its own route: status, media type and text. */
async function ownRouteAnswer(app: RunningApp, prefix: string, body: string) {
  const answer = await send(
    app.url(`${prefix}/other`),
    { 'content-type': 'application/json' },
    body,
  );
  return {
    status: answer.status,
    type: answer.headers['content-type']?.split(';', 1)[0],
    text: answer.text,
  };
}

beforeAll(() => {
  // Set-up (a) passes no options at all, so no `logger: false` either.
  Logger.overrideLogger(false);
});

// ---------------------------------------------------------------------------------------------
// 1. App set-ups: the webhook route works without rawBody, the app's own route is unchanged
// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS)('the webhook route reads its own body, on %s', (adapter) => {
  describe.each(SET_UPS)('in an app made with $name', (setUp) => {
    let withHop: RunningApp | undefined;
    let withoutHop: RunningApp | undefined;

    beforeAll(async () => {
      withHop = await listen(await setUp.create(appModule(true), adapter));
      withoutHop = await listen(await setUp.create(appModule(false), adapter));
    });
    afterAll(async () => {
      await withHop?.close();
      await withoutHop?.close();
    });

    it('receives a signed ~10 kB event (204) and hands the handler exactly that event', async () => {
      const app = withHop as RunningApp;
      const { event, body } = eventOfSize(10_000);
      const answer = await send(app.url(`${setUp.prefix}/hop/webhook`), signed(body), body);
      expect(answer.status).toBe(204);
      expect(app.app.get(ReceivedEvents).byId(event.id)).toEqual([event]);
    });

    it.each(OWN_ROUTE_BODIES)(
      "answers %s on the app's own route as the same app without the module",
      async (_case, body) => {
        const expected = await ownRouteAnswer(withoutHop as RunningApp, setUp.prefix, body);
        const actual = await ownRouteAnswer(withHop as RunningApp, setUp.prefix, body);
        expect(actual).toEqual(expected);
      },
    );

    if (setUp.frameworkDefaults) {
      it("keeps the framework's default parser and limit on the app's own route", async () => {
        const app = withHop as RunningApp;
        const statuses = [];
        for (const [, body] of OWN_ROUTE_BODIES) {
          statuses.push((await ownRouteAnswer(app, '', body)).status);
        }
        expect(statuses).toEqual(DEFAULT_OWN_ROUTE_STATUSES[adapter]);
        const valid = await ownRouteAnswer(app, '', '{"hello":"world","n":1}');
        expect(JSON.parse(valid.text)).toEqual({ kind: 'object', body: { hello: 'world', n: 1 } });
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2, 3, 5, 6. An app with the default bodyLimit and no rawBody
// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS)('the webhook route with the default bodyLimit, on %s', (adapter) => {
  let app: RunningApp;
  let received: ReceivedEvents;
  const webhook = () => app.url('/hop/webhook');

  beforeAll(async () => {
    const started = await startTestApp(
      adapter,
      { imports: [HopWebhooksModule.forRoot({ secret: SECRET })], providers: [ReceivedEvents] },
      { rawBody: false },
    );
    app = { app: started.app, url: started.url, close: started.close };
    received = app.app.get(ReceivedEvents);
  });
  afterAll(() => app.close());

  it('hands `__proto__` and `constructor` keys to the handler as plain data, polluting nothing', async () => {
    const id = `event_proto_${randomUUID()}`;
    // Written by hand, so that the `__proto__` key is really in the bytes.
    const data =
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"id":"x"}';
    const body = `{"id":"${id}","event":"project.updated","webhook_id":"webhook_1","data":${data}}`;
    const answer = await send(webhook(), signed(body), body);
    expect(answer.status).toBe(204);
    const [event] = received.byId(id);
    const handed = event?.data as Record<string, unknown>;
    expect(Object.hasOwn(handed, '__proto__')).toBe(true);
    expect(Object.hasOwn(handed, 'constructor')).toBe(true);
    expect(Object.getPrototypeOf(handed)).toBe(Object.prototype);
    expect(JSON.stringify(event)).toBe(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  describe('a deeply nested ~1 MB body that is not validly signed', () => {
    const marker = `nested-marker-${randomUUID()}`;
    const depth = 500_000;
    const body = `{"marker":"${marker}","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`;

    afterEach(() => {
      vi.restoreAllMocks();
    });

    it.each([
      ['unsigned', { 'content-type': 'application/json' }, 'header is missing'],
      ['wrongly signed', signed('another body'), 'does not match the request body'],
    ])('is answered 401 when %s, and never JSON-parsed', async (_case, headers, message) => {
      expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);
      expect(Buffer.byteLength(body)).toBeLessThan(1_048_576);
      const parse = vi.spyOn(JSON, 'parse');
      const answer = await send(webhook(), headers, body);
      expect(answer.status).toBe(401);
      expect(messageOf(answer)).toContain(message);
      // A valid delivery right after: 204, and the spy sees the module's own parse.
      const control = `control-${randomUUID()}`;
      const event = buildHopEvent('project.updated', { id: control, data: {} as never });
      expect((await postHopEvent(webhook(), event, SECRET)).status).toBe(204);
      const parsedTexts = parse.mock.calls.map(([text]) => String(text));
      expect(parsedTexts.filter((text) => text.includes(marker))).toEqual([]);
      expect(parsedTexts.some((text) => text.includes(control))).toBe(true);
      expect(received.byId(control)).toHaveLength(1);
    });
  });

  it('answers 415 to a signed body sent as text/plain', async () => {
    const { body } = signHopDelivery(buildHopEvent('project.updated'), SECRET);
    const answer = await send(webhook(), { ...signed(body), 'content-type': 'text/plain' }, body);
    expect(answer.status).toBe(415);
    expect(messageOf(answer)).toContain('application/json');
  });

  it('answers 415 to a text/plain request before its body is sent', async () => {
    const headers = { 'content-type': 'text/plain', 'content-length': 10_000_000 };
    const answer = await send(webhook(), headers, null);
    expect(answer.status).toBe(415);
    expect(answer.headers.connection).toBe('close');
  });

  it('answers 415 to a gzip-encoded body', async () => {
    const event = buildHopEvent('project.updated');
    const zipped = gzipSync(JSON.stringify(event));
    const headers = { ...signed(zipped), 'content-encoding': 'gzip' };
    const answer = await send(webhook(), headers, zipped);
    expect(answer.status).toBe(415);
    expect(messageOf(answer)).toContain('gzip');
    expect(received.byId(event.id)).toEqual([]);
  });

  it('accepts Content-Encoding: identity', async () => {
    const event = buildHopEvent('project.updated');
    const { body } = signHopDelivery(event, SECRET);
    const answer = await send(webhook(), { ...signed(body), 'content-encoding': 'identity' }, body);
    expect(answer.status).toBe(204);
    expect(received.byId(event.id)).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'zq7Wx~Unquoted~Token~91~{{', 'Hop event body is not valid JSON'],
    ['a JSON array', '[7193,"zq7Wx-elem"]', 'Hop event body must be a JSON object'],
  ])(
    'answers 400 to a validly signed body that is %s, quoting none of it',
    async (_case, body, message) => {
      const answer = await send(webhook(), signed(body), body);
      expect(answer.status).toBe(400);
      expect(messageOf(answer)).toBe(message);
      expect(quotesAnyOf(answer.text, body)).toBe(false);
    },
  );

  it('receives a signed ~200 kB event, over Express’s default json limit (204)', async () => {
    const { event, body } = eventOfSize(200_000);
    const answer = await send(webhook(), signed(body), body);
    expect(answer.status).toBe(204);
    expect(received.byId(event.id)).toEqual([event]);
  });

  it('answers 413 to a signed 2 MB event, over the default bodyLimit of 1 MiB', async () => {
    const { event, body } = eventOfSize(2_000_000);
    const answer = await send(webhook(), signed(body), body);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(messageOf(answer)).toContain('bodyLimit');
    expect(received.byId(event.id)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. bodyLimit
// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS)('bodyLimit: 1024, on %s', (adapter) => {
  let app: RunningApp;
  let received: ReceivedEvents;
  const webhook = () => app.url('/hop/webhook');

  beforeAll(async () => {
    const started = await startTestApp(
      adapter,
      {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET, bodyLimit: 1024 })],
        providers: [ReceivedEvents],
      },
      { rawBody: false },
    );
    app = { app: started.app, url: started.url, close: started.close };
    received = app.app.get(ReceivedEvents);
  });
  afterAll(() => app.close());

  it('answers 413 to Content-Length: 10000000 without waiting for the body', async () => {
    const headers = { ...signed('unsent'), 'content-length': 10_000_000 };
    // The body is never sent: only an answer given from the headers resolves this.
    const answer = await send(webhook(), headers, null);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(messageOf(answer)).toContain('bodyLimit');
  });

  it('answers 413 to a chunked body that grows past the limit, quoting none of it', async () => {
    const chunks = [0, 1, 2].map((n) => `{"chunk${n}":"${`k${n}q`.repeat(247)}"}`.padEnd(1000));
    expect(chunks.join('')).toHaveLength(3000);
    const answer = await send(webhook(), signed(chunks.join('')), chunks);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(messageOf(answer)).toContain('bodyLimit');
    expect(quotesAnyOf(answer.text, chunks.join(''))).toBe(false);
  });

  it('reads a signed body of exactly 1024 bytes (204)', async () => {
    const { event, body } = eventOfSize(1024);
    const answer = await send(webhook(), signed(body), body);
    expect(answer.status).toBe(204);
    expect(received.byId(event.id)).toEqual([event]);
  });

  it('reads a chunked signed body of exactly 1024 bytes (204)', async () => {
    const { event, body } = eventOfSize(1024);
    const answer = await send(webhook(), signed(body), [body.slice(0, 500), body.slice(500)]);
    expect(answer.status).toBe(204);
    expect(received.byId(event.id)).toEqual([event]);
  });

  it('answers 413 to a signed body of 1025 bytes', async () => {
    const { event, body } = eventOfSize(1025);
    const answer = await send(webhook(), signed(body), body);
    expect(answer.status).toBe(413);
    expect(messageOf(answer)).toContain('bodyLimit');
    expect(quotesAnyOf(answer.text, body.slice(-200))).toBe(false);
    expect(received.byId(event.id)).toEqual([]);
  });
});

describe.each(ADAPTERS)('bodyLimit: 4 MiB, above Fastify’s own 1 MiB, on %s', (adapter) => {
  let app: RunningApp | undefined;
  afterAll(() => app?.close());

  it('reads a signed 2 MB event (204) and hands it to the handler once', async () => {
    const started = await startTestApp(
      adapter,
      {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET, bodyLimit: 4 * 1_048_576 })],
        providers: [ReceivedEvents],
      },
      { rawBody: false },
    );
    app = { app: started.app, url: started.url, close: started.close };
    const { event, body } = eventOfSize(2_000_000);
    const answer = await send(app.url('/hop/webhook'), signed(body), body);
    expect(answer.status).toBe(204);
    expect(app.app.get(ReceivedEvents).byId(event.id)).toEqual([event]);
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Startup check of bodyLimit
// ---------------------------------------------------------------------------------------------

describe.each(ADAPTERS)('the bodyLimit option at startup, on %s', (adapter) => {
  it.each([0, 1.5, -1, '1024'])(
    'stops the app for bodyLimit: %j, naming the option',
    async (limit) => {
      const error = await startupError(
        { imports: [HopWebhooksModule.forRoot({ secret: SECRET, bodyLimit: limit as number })] },
        adapter,
      );
      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toContain('`bodyLimit`');
      expect(error.message).not.toContain(SECRET);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// 8. An Express instance that reads bodies before the module can
// ---------------------------------------------------------------------------------------------

describe('an Express instance that already reads bodies', () => {
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('makes the webhook route answer 500 saying why, never 2xx or 401', async () => {
    const adapter = new ExpressAdapter();
    // Mounted on the instance before Nest has it, as an app's own body reader would be.
    adapter
      .getInstance()
      .use((request: NodeJS.ReadableStream, _response: unknown, next: () => void) => {
        request.on('data', () => undefined);
        request.on('end', () => next());
      });
    app = await listen(
      await NestFactory.create(appModule(true), adapter, { logger: false, abortOnError: false }),
    );
    const { event, body } = eventOfSize(2_000);
    const answer = await send(app.url('/hop/webhook'), signed(body), body);
    expect(answer.status).toBe(500);
    expect(messageOf(answer)).toContain('not read by the module');
    expect(messageOf(answer)).toContain('ExpressAdapter');
    expect(app.app.get(ReceivedEvents).byId(event.id)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. On Fastify, the app sees the webhook request's headers as they were sent
// ---------------------------------------------------------------------------------------------

/** The body headers of a request, as an app's code would read them. */
interface SeenHeaders {
  readonly type: unknown;
  readonly length: unknown;
  readonly encoding: unknown;
  readonly added: unknown;
  /** Whether the raw request has a `transfer-encoding` key at all (even undefined). */
  readonly rawHasEncoding: boolean;
}

/**
 * Where the app's code saw the webhook request: its global guard, and its instance-wide Fastify
 * hooks (`preValidation` runs before the route's own, so it still sees the body hidden).
 */
interface HeaderSightings {
  readonly guard: SeenHeaders[];
  readonly preValidation: SeenHeaders[];
  readonly preHandler: SeenHeaders[];
  readonly onResponse: SeenHeaders[];
}

function seenHeaders(request: {
  headers: IncomingHttpHeaders;
  raw: { headers: IncomingHttpHeaders };
}): SeenHeaders {
  const { headers } = request;
  return {
    type: headers['content-type'],
    length: headers['content-length'],
    encoding: headers['transfer-encoding'],
    added: headers['x-added'],
    rawHasEncoding: Object.keys(request.raw.headers).includes('transfer-encoding'),
  };
}

describe('on Fastify, the webhook route hides its body from Fastify only while it decides', () => {
  let app: RunningApp | undefined;
  let sightings: HeaderSightings;

  beforeAll(async () => {
    const adapter = new FastifyAdapter();
    const fastify = adapter.getInstance();
    sightings = { guard: [], preValidation: [], preHandler: [], onResponse: [] };
    type FastifyRequestLike = Parameters<typeof seenHeaders>[0] & { url: string };
    // A hook of the app's own that sets headers over the raw ones (Fastify's documented
    // `request.headers = ...`), on the requests that ask for it.
    fastify.addHook(
      'onRequest',
      (request: FastifyRequestLike, _reply: unknown, done: () => void) => {
        if (request.headers['x-overlay'] === 'yes') request.headers = { 'x-added': 'by-hook' };
        done();
      },
    );
    for (const hook of ['preValidation', 'preHandler', 'onResponse'] as const) {
      fastify.addHook(hook, (request: FastifyRequestLike, _reply: unknown, done: () => void) => {
        if (request.url === '/hop/webhook') sightings[hook].push(seenHeaders(request));
        done();
      });
    }
    const nest = await NestFactory.create<NestFastifyApplication>(appModule(true), adapter, {
      logger: false,
    });
    nest.useGlobalGuards({
      canActivate: (context) => {
        sightings.guard.push(seenHeaders(context.switchToHttp().getRequest<FastifyRequestLike>()));
        return true;
      },
    });
    app = await listen(nest);
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['with a Content-Length', undefined],
    ['chunked', 'chunks'],
    ['with headers a hook set over the raw ones', 'overlay'],
  ] as const)('a delivery %s: 204, and every header back as sent', async (_name, kind) => {
    for (const seen of Object.values(sightings)) seen.length = 0;
    const { event, body } = eventOfSize(1_500);
    const headers = { ...signed(body), ...(kind === 'overlay' ? { 'x-overlay': 'yes' } : {}) };
    const sent = kind === 'chunks' ? [body.slice(0, 700), body.slice(700)] : body;
    const answer = await send((app as RunningApp).url('/hop/webhook'), headers, sent);
    expect(answer.status).toBe(204);
    expect((app as RunningApp).app.get(ReceivedEvents).byId(event.id)).toHaveLength(1);
    const expected: SeenHeaders = {
      type: 'application/json',
      length: kind === 'chunks' ? undefined : String(Buffer.byteLength(body)),
      encoding: kind === 'chunks' ? 'chunked' : undefined,
      added: kind === 'overlay' ? 'by-hook' : undefined,
      rawHasEncoding: kind === 'chunks',
    };
    expect(sightings.guard).toEqual([expected]);
    expect(sightings.preHandler).toEqual([expected]);
    expect(sightings.onResponse).toEqual([expected]);
    // Only the body headers are hidden from the instance's own `preValidation`, and only those
    // the request has are changed (an overlay hides them all, over the hook's headers).
    expect(sightings.preValidation).toEqual([
      {
        ...expected,
        type: undefined,
        length: kind === 'chunks' ? undefined : '0',
        encoding: undefined,
      },
    ]);
  });
});
