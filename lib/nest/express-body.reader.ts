import type { HttpException } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToRegexp } from 'path-to-regexp';
import { HopBodyError } from '../core/errors.js';
import { HOP_RAW_BODY, readBody } from '../core/raw-body.js';
import { HOP_DELIVERY, type HopDeliveryTrace, type HopTelemetry } from '../core/telemetry.js';

/** What the Express reader needs from the module. */
export interface ExpressBodyReaderOptions {
  /** The route's full paths; asked at the first request, when prefix and versioning are final. */
  readonly paths: () => readonly string[];
  readonly limit: number;
  /** The HTTP answer for a body that cannot be read. */
  readonly refusal: (error: unknown) => HttpException | unknown;
  readonly telemetry: HopTelemetry;
}

type ExpressRequest = IncomingMessage & {
  path: string;
  [HOP_RAW_BODY]?: Buffer;
  [HOP_DELIVERY]?: HopDeliveryTrace;
};
type Next = (error?: unknown) => void;

/**
 * Reads the body of a `POST` to the webhook route before any body parser does. It is an
 * Express middleware added when Nest hands the module its HTTP adapter, so it runs before the
 * parsers `app.init()` registers and those the app adds with `useBodyParser` or `app.use`.
 * A parser skips a request whose body has been read (`body-parser` checks that the request
 * is finished), so the app's other routes and their parsers are as they were.
 * Express and Nest's public API only: `HttpAdapterHost.init$`, the adapter's `use`, Express's
 * routing settings and `req.path`. The route's paths are matched as Express 5's router matches
 * them (with its `path-to-regexp`), so that a path with a parameter (`hooks/:tenant`, or a
 * global prefix such as `t/:tenant`) has its body read here too.
 */
export function installExpressBodyReader(
  adapter: AbstractHttpAdapter,
  options: ExpressBodyReaderOptions,
): void {
  const app = adapter.getInstance<{ get(setting: string): unknown }>();
  // Compiled at the first request, once the global prefix and versioning are final.
  const compile = () => {
    const strict = app.get('strict routing') === true;
    const sensitive = app.get('case sensitive routing') === true;
    // The paths never end with a slash (but `/`): a trailing one in the request is ignored
    // unless `strict routing`, and case unless `case sensitive routing`, as Express does.
    return options
      .paths()
      .map((path) => pathToRegexp(path, { sensitive, end: true, trailing: !strict }).regexp);
  };
  let routes: ReturnType<typeof compile> | undefined;
  adapter.use(function hopWebhookBody(
    request: ExpressRequest,
    response: ServerResponse,
    next: Next,
  ) {
    if (request.method !== 'POST') return next();
    routes ??= compile();
    if (!routes.some((route) => route.test(request.path))) return next();
    const delivery = options.telemetry.traceRequest(request, response);
    // Read already, by a parser mounted on the Express instance before Nest had it: the guard
    // answers 500 and says why.
    if (request.readableEnded) return next();
    readBody(request, request.headers, options.limit).then(
      (body) => {
        request[HOP_RAW_BODY] = body;
        next();
      },
      (error: unknown) => {
        if (error instanceof HopBodyError) delivery?.refused(error.code);
        // The rest of the body is not read: the connection cannot serve another request.
        response.setHeader('connection', 'close');
        next(options.refusal(error));
      },
    );
  });
}
