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
import { isParsedContentType, readRawBody, type HopWebhookRequest } from '../core/raw-body.js';
import {
  assertSignatureMatches,
  decodeHopSignature,
  HOP_SIGNATURE_HEADER,
} from '../core/signature.js';
import { HopSignatureError } from '../core/errors.js';
import { HopWebhookSecrets } from '../core/webhook-secrets.js';

/** Names the fix for the adapter in use, as the app is created in `main.ts` and in tests. */
function rawBodyMissing(adapter: string | undefined): string {
  const fastify = adapter === 'fastify' ? 'new FastifyAdapter(), ' : '';
  return (
    'Raw body is not available, so the Hop signature cannot be verified: create the app with ' +
    `\`rawBody: true\`, i.e. \`NestFactory.create(AppModule, ${fastify}{ rawBody: true })\` in main.ts, ` +
    `or \`moduleRef.createNestApplication(${fastify}{ rawBody: true })\` after \`Test.createTestingModule(...).compile()\` in tests ` +
    '(and keep the body parser enabled)'
  );
}

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
    const request = context.switchToHttp().getRequest<HopWebhookRequest>();
    try {
      const signature = decodeHopSignature(request.headers[HOP_SIGNATURE_HEADER]);
      assertSignatureMatches(this.requireRawBody(request), signature, this.secrets.all);
    } catch (error) {
      if (error instanceof HopSignatureError) throw new UnauthorizedException(error.message);
      throw error;
    }
    return true;
  }

  private requireRawBody(request: HopWebhookRequest): Buffer {
    const rawBody = readRawBody(request);
    if (rawBody) return rawBody;
    if (!isParsedContentType(request.headers)) {
      throw new UnsupportedMediaTypeException(
        `Hop webhooks are sent as application/json, not ${request.headers['content-type'] ?? 'without a Content-Type'}`,
      );
    }
    const message = rawBodyMissing(this.adapterHost.httpAdapter?.getType());
    if (!this.rawBodyMissingLogged) {
      this.rawBodyMissingLogged = true;
      this.logger.error(message);
    }
    throw new InternalServerErrorException(message);
  }
}
