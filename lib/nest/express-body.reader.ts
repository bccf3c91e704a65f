import type { HttpException } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToRegexp } from 'path-to-regexp';
import { describeError, HopBodyError, HopConfigurationError } from '../core/errors.js';
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

/** What Express's router (5.x, the `router` package) shows of the routes it holds. */
interface ExpressRouter {
  readonly strict?: boolean;
  readonly caseSensitive?: boolean;
  readonly stack: readonly {
    readonly route?: {
      readonly path: string | RegExp | readonly (string | RegExp)[];
      readonly methods: Readonly<Record<string, boolean | undefined>>;
    };
  }[];
}

/**
 * Reads the body of a `POST` to the webhook route before any body parser does. It is an
 * Express middleware added when Nest hands the module its HTTP adapter, so it runs before the
 * parsers `app.init()` registers and those the app adds with `useBodyParser` or `app.use`.
 * A parser skips a request whose body has been read (`body-parser` checks that the request
 * is finished), so the app's other routes and their parsers are as they were.
 *
 * Which requests are the route's is decided as Express's router decides it, by the returned
 * `prepare`, once the app's routes are registered: the route's paths compiled as Express 5
 * compiles them (`path-to-regexp`, with the router's `strict` and `caseSensitive`), so that a
 * parameter (`hooks/:tenant`, or a global prefix `t/:tenant`) matches; and, since Express
 * sends a request to the first route that matches it, a request that a `POST` route of the
 * app registered before the webhook route also matches (`hooks/special` beside
 * `hooks/:tenant`) is left to that route and its parser. Until then, no request is the route's.
 */
export function installExpressBodyReader(
  adapter: AbstractHttpAdapter,
  options: ExpressBodyReaderOptions,
): () => void {
  let routes: readonly RegExp[] = [];
  let before: readonly RegExp[] = [];
  adapter.use(function hopWebhookBody(
    request: ExpressRequest,
    response: ServerResponse,
    next: Next,
  ) {
    if (request.method !== 'POST') return next();
    const { path } = request;
    if (!routes.some((route) => route.test(path)) || before.some((other) => other.test(path))) {
      return next();
    }
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
  return () => {
    const router = adapter.getInstance<{ router: ExpressRouter }>().router;
    const paths = options.paths();
    const compile = (path: string) =>
      pathToRegexp(router.strict === true ? path : loosen(path), {
        sensitive: router.caseSensitive === true,
        end: true,
        trailing: router.strict !== true,
      }).regexp;
    routes = paths.map((path) => {
      try {
        return compile(path);
      } catch (error) {
        throw new HopConfigurationError(
          `HopWebhooksModule: the webhook route POST ${path} is not a path Express 5 can match (${describeError(error)}): name a parameter (\`hooks/:tenant\`) or a wildcard (\`hooks/*rest\`)`,
        );
      }
    });
    // Tested only on the webhook route's requests: usually none, or a few.
    before = postRoutesBefore(router, paths).flatMap((other) => {
      if (other instanceof RegExp) return [other];
      try {
        return [compile(other)];
      } catch {
        // Not a path Express could have compiled either.
        return [];
      }
    });
  };
}

/** The paths of the `POST` routes registered before the first at one of `paths`. */
function postRoutesBefore(router: ExpressRouter, paths: readonly string[]): (string | RegExp)[] {
  const found: (string | RegExp)[] = [];
  for (const { route } of router.stack) {
    if (route === undefined || !(route.methods.post || route.methods._all)) continue;
    const routePaths = [route.path].flat();
    if (routePaths.some((path) => typeof path === 'string' && paths.includes(path))) break;
    found.push(...routePaths);
  }
  return found;
}

/** A path without its trailing slashes, as Express's router takes it unless `strict`. */
function loosen(path: string): string {
  return path === '/' ? path : path.replace(/\/+$/, '');
}
