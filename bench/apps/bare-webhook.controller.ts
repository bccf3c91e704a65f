import { Controller, HttpCode, Post, Req, UnauthorizedException } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SECRET, SIGNATURE_HEADER, WEBHOOK_PATH } from '../fixture.js';

/** The part of an Express or Fastify request the hand-written check reads. */
interface RawBodyRequest {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody?: Buffer;
}

/**
 * The baseline for the module on Nest: what an app would write by hand without it. One route,
 * the HMAC of Nest's raw body checked in constant time, the body parsed, 204; no handlers.
 */
@Controller(WEBHOOK_PATH)
export class BareWebhookController {
  handled = 0;

  @Post()
  @HttpCode(204)
  receive(@Req() request: RawBodyRequest): void {
    const header = request.headers[SIGNATURE_HEADER];
    const { rawBody } = request;
    if (typeof header !== 'string' || rawBody === undefined) throw new UnauthorizedException();
    const expected = Buffer.from(header, 'hex');
    const actual = createHmac('sha256', SECRET).update(rawBody).digest();
    if (expected.length !== actual.length || !timingSafeEqual(actual, expected)) {
      throw new UnauthorizedException();
    }
    JSON.parse(rawBody.toString('utf8'));
    this.handled += 1;
  }
}
