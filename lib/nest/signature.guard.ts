import {
  CanActivate,
  ExecutionContext,
  Injectable,
  InternalServerErrorException,
  Logger,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { mediaTypeOf, receivedBody, type HopWebhookRequest } from '../core/raw-body.js';
import { FASTIFY_ROUTE_CONFIG_METADATA, HOP_ROUTE_CONFIG_KEY } from './fastify-body.reader.js';
import {
  assertSignatureMatches,
  decodeHopSignature,
  HOP_SIGNATURE_HEADER,
} from '../core/signature.js';
import { HopSignatureError } from '../core/errors.js';
import { HopWebhookSecrets } from '../core/webhook-secrets.js';
import { HOP_DELIVERY } from '../core/telemetry.js';

/** Names the fix for the app's own routes, as the app is created in `main.ts` and in tests. */
function rawBodyMissing(adapter: string | undefined): string {
  const fastify = adapter === 'fastify' ? 'new FastifyAdapter(), ' : '';
  return (
    'Raw body is not available, so the Hop signature cannot be verified: HopSignatureGuard on ' +
    "the app's own routes needs the app created with `rawBody: true`, i.e. " +
    `\`NestFactory.create(AppModule, ${fastify}{ rawBody: true })\` (and the body parser enabled)`
  );
}

// On the module's own route the body is read by the module: missing, it was read by others.
const NOT_READ_BY_MODULE =
  "The Hop webhook route's body was not read by the module, so the signature cannot be " +
  'verified: on Express the module finds its route by path, so it cannot be mounted under ' +
  'RouterModule, and an Express instance given to ExpressAdapter must not parse bodies already';

/**
 * Lets a request through only if its `X-Hop-Hooks-Signature` is the HMAC-SHA256 of the exact
 * raw body under a configured secret. Nothing is parsed before that: a missing or wrong
 * signature is answered 401. Usable on an app's own routes as `@UseGuards(HopSignatureGuard)`.
 */
@Injectable()
export class HopSignatureGuard implements CanActivate {
  private readonly logger = new Logger('HopWebhooks');
  private rawBodyMissingLogged = false;

  constructor(
    private readonly secrets: HopWebhookSecrets,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    // The HTTP request is the first argument; `switchToHttp()` would build an object of three
    // closures for every call to hand it over.
    const request = context.getArgByIndex<HopWebhookRequest>(0);
    try {
      const signature = decodeHopSignature(request.headers[HOP_SIGNATURE_HEADER]);
      assertSignatureMatches(this.requireBody(context, request), signature, this.secrets.keys);
    } catch (error) {
      if (error instanceof HopSignatureError) {
        request[HOP_DELIVERY]?.refused(error.code);
        throw new UnauthorizedException(error.message);
      }
      throw error;
    }
    return true;
  }

  private requireBody(context: ExecutionContext, request: HopWebhookRequest): Buffer {
    const body = receivedBody(request);
    if (body) return body;
    const routeConfig = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, context.getHandler()) as
      Record<string, unknown> | undefined;
    if (routeConfig?.[HOP_ROUTE_CONFIG_KEY] !== undefined) this.refuse(NOT_READ_BY_MODULE);
    const { headers } = request;
    const declaresBody =
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    if (!declaresBody) return EMPTY;
    if (!isParsedContentType(headers)) {
      throw new UnsupportedMediaTypeException(
        `Hop webhooks are sent as application/json, not ${headers['content-type'] ?? 'without a Content-Type'}`,
      );
    }
    this.refuse(rawBodyMissing(this.adapterHost.httpAdapter?.getType()));
  }

  /** Answers 500, and logs why the first time. */
  private refuse(message: string): never {
    if (!this.rawBodyMissingLogged) {
      this.rawBodyMissingLogged = true;
      this.logger.error(message);
    }
    throw new InternalServerErrorException(message);
  }
}

/**
 * Whether the framework's JSON or form parser reads this request, and so would have kept its
 * raw body under `{ rawBody: true }`.
 */
function isParsedContentType(headers: IncomingHttpHeaders): boolean {
  const mediaType = mediaTypeOf(headers);
  return mediaType === 'application/json' || mediaType === 'application/x-www-form-urlencoded';
}

const EMPTY = Buffer.alloc(0);
