import type { HttpException } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { HopBodyError } from '../core/errors.js';
import { HOP_RAW_BODY, readBody } from '../core/raw-body.js';
import { HOP_DELIVERY, type HopDeliveryTrace, type HopTelemetry } from '../core/telemetry.js';

/**
 * The key under which Nest's `@RouteConfig()` (from `@nestjs/platform-fastify`) keeps a
 * route's Fastify `config`; the same in Nest 11 and 12. Written here rather than imported, so
 * that Express apps need not install the Fastify platform.
 */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/** The `config` entry that marks a webhook route, with the registration's path as its value. */
export const HOP_ROUTE_CONFIG_KEY = 'nestjs-hop-webhooks:route';

/** What the Fastify reader needs from the module. */
export interface FastifyBodyReaderOptions {
  /** The registration's mark, the value of {@link HOP_ROUTE_CONFIG_KEY} on its route. */
  readonly mark: string;
  /** The route's full paths, for a route whose `config` was lost (see below). */
  readonly paths: () => readonly string[];
  readonly limit: number;
  /** The HTTP answer for a body that cannot be read. */
  readonly refusal: (error: unknown) => HttpException | unknown;
  readonly telemetry: HopTelemetry;
}

interface FastifyRequest {
  /** The raw request's headers, overlaid with any set here (Fastify's getter and setter). */
  headers: IncomingHttpHeaders | undefined;
  readonly raw: { readonly headers: IncomingHttpHeaders };
  [HOP_RAW_BODY]?: Buffer;
  [HOP_DELIVERY]?: HopDeliveryTrace;
  [SET_ASIDE]?: SetAside;
}
interface FastifyReply {
  readonly raw: ServerResponse;
  header(name: string, value: string): unknown;
}
type Done = (error?: unknown) => void;
type Hook = (...args: never[]) => unknown;
interface RouteOptions {
  method: string | string[];
  url: string;
  config?: Record<string, unknown>;
  preParsing?: Hook | Hook[];
  preValidation?: Hook | Hook[];
}

// What a request's headers were while Fastify is shown a request without a body.
const SET_ASIDE = Symbol('headers set aside');
// Set over a request's headers, they make it body-less to Fastify.
const BODYLESS = Object.freeze({
  'content-type': undefined,
  'content-length': '0',
  'transfer-encoding': undefined,
} satisfies IncomingHttpHeaders);

/**
 * What {@link hideBody} set aside: the raw request's body headers, while they are changed in
 * place; or, when a hook had set headers over the raw ones (`request.headers = ...`), the
 * headers Fastify showed, while the same without their body headers are set over them instead.
 */
type SetAside =
  | { readonly type?: string; readonly length?: string; readonly encoding?: string }
  | { readonly overlaid: IncomingHttpHeaders };

/**
 * Gives the webhook route the bytes of its body with no content-type parser run on them (not
 * Nest's, not Fastify's, which refuses a `__proto__` key with 400). An `onRoute` hook, added
 * when Nest hands the module its HTTP adapter and so before Nest declares any route, gives
 * that one route two hooks of its own:
 * - `preParsing` reads the body, then shows Fastify a body-less request (no `Content-Type`,
 *   `Content-Length: 0`), for which it runs no parser;
 * - `preValidation` gives the request its headers back before guards and the handler run.
 * Fastify reads the content type after `preParsing` (its `handleRequest`); the e2e tests of
 * `__proto__` bodies fail loudly if a Fastify release changes that.
 */
export function installFastifyBodyReader(
  adapter: AbstractHttpAdapter,
  options: FastifyBodyReaderOptions,
): void {
  // A callback hook: it must return nothing, or Fastify would also take it for an async hook
  // and parse the request a second time when the returned promise settles.
  const readFirst = (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: Readable,
    done: Done,
  ): void => {
    const delivery = options.telemetry.traceRequest(request, reply.raw);
    void readBody(payload, request.headers as IncomingHttpHeaders, options.limit).then(
      (body) => {
        request[HOP_RAW_BODY] = body;
        request[SET_ASIDE] = hideBody(request);
        done();
      },
      (error: unknown) => {
        if (error instanceof HopBodyError) delivery?.refused(error.code);
        // The rest of the body is not read: the connection cannot serve another request.
        reply.header('connection', 'close');
        done(options.refusal(error));
      },
    );
  };
  const restoreHeaders = (request: FastifyRequest, _reply: FastifyReply, done: Done) => {
    const setAside = request[SET_ASIDE];
    if (setAside !== undefined) showBody(request, setAside);
    done();
  };
  const fastify = adapter.getInstance<{
    addHook(name: 'onRoute', hook: (route: RouteOptions) => void): unknown;
  }>();
  fastify.addHook('onRoute', (route) => {
    // Nest 11 drops a route's `config` once `setOnRouteTriggered` is used (instrumentation):
    // the path the route is declared at tells it then.
    const marked =
      route.config?.[HOP_ROUTE_CONFIG_KEY] === options.mark ||
      (route.method === 'POST' && options.paths().includes(route.url));
    if (!marked) return;
    route.preParsing = [...hooks(route.preParsing), readFirst as Hook];
    route.preValidation = [restoreHeaders as Hook, ...hooks(route.preValidation)];
  });
}

/**
 * Shows Fastify a request without a body. Without an overlay, the raw request's own headers
 * are changed in place (as Fastify does with `accept-version`) rather than overlaid: over an
 * overlay, each read of Fastify's `request.headers` copies every header. Only the headers the
 * request has are changed: none is added to it.
 */
function hideBody(request: FastifyRequest): SetAside {
  const { headers } = request;
  const raw = request.raw.headers;
  if (headers !== raw) {
    // The hook's headers stay, for the app's instance-wide `preValidation` hooks.
    request.headers = { ...headers, ...BODYLESS };
    return { overlaid: headers as IncomingHttpHeaders };
  }
  const type = raw['content-type'];
  const length = raw['content-length'];
  const encoding = raw['transfer-encoding'];
  if (type !== undefined) raw['content-type'] = BODYLESS['content-type'];
  if (length !== undefined) raw['content-length'] = BODYLESS['content-length'];
  if (encoding !== undefined) raw['transfer-encoding'] = BODYLESS['transfer-encoding'];
  return { type, length, encoding };
}

/** Gives the request back the headers {@link hideBody} set aside. */
function showBody(request: FastifyRequest, setAside: SetAside): void {
  if ('overlaid' in setAside) {
    request.headers = setAside.overlaid;
    return;
  }
  const raw = request.raw.headers;
  const { type, length, encoding } = setAside;
  if (type !== undefined) raw['content-type'] = type;
  if (length !== undefined) raw['content-length'] = length;
  if (encoding !== undefined) raw['transfer-encoding'] = encoding;
}

function hooks(value: Hook | Hook[] | undefined): Hook[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
