import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { HopBodyError } from './errors.js';
import { HOP_DELIVERY, type HopDeliveryTrace } from './telemetry.js';

/**
 * Where the webhook route keeps the bytes it read itself: a key of the module's own, so that
 * no other code's `rawBody` is touched.
 */
export const HOP_RAW_BODY = Symbol.for('nestjs-hop-webhooks.rawBody');

/**
 * The part of an Express or Fastify request the receiver reads: the bytes the module read on
 * its own route, or `rawBody`, which Nest keeps for an app created with `{ rawBody: true }`
 * (how `HopSignatureGuard` verifies the app's own routes).
 */
export interface HopWebhookRequest {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody?: Buffer;
  readonly [HOP_RAW_BODY]?: Buffer;
  /** The delivery's trace, on the module's own route. */
  readonly [HOP_DELIVERY]?: HopDeliveryTrace;
}

/**
 * The body's bytes exactly as received, or `undefined` when no one kept them.
 * @internal
 */
export function receivedBody(request: HopWebhookRequest): Buffer | undefined {
  return request[HOP_RAW_BODY] ?? (Buffer.isBuffer(request.rawBody) ? request.rawBody : undefined);
}

/**
 * Reads a webhook request's whole body, refusing it with {@link HopBodyError} when it is not
 * sent as `application/json` or is compressed (both before reading), over `limit` bytes
 * (before reading when `Content-Length` says so, as soon as the count passes the limit
 * otherwise), or cut short. Nothing is parsed.
 * @internal
 */
export function readBody(
  stream: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (mediaTypeOf(headers) !== 'application/json') {
      reject(
        new HopBodyError(
          'body_not_json_type',
          `Hop webhooks are sent as application/json, not ${headers['content-type'] ?? 'without a Content-Type'}`,
        ),
      );
      return;
    }
    const encoding = headers['content-encoding']?.trim().toLowerCase() ?? 'identity';
    if (encoding !== 'identity') {
      reject(
        new HopBodyError(
          'body_encoded',
          `Content-Encoding ${encoding} is not accepted: Hop sends webhooks uncompressed`,
        ),
      );
      return;
    }
    const declared =
      headers['transfer-encoding'] === undefined ? headers['content-length'] : undefined;
    const expected = declared === undefined ? undefined : Number(declared);
    if (expected !== undefined && expected > limit) {
      reject(tooLarge(limit));
      return;
    }
    // Its sender hung up before the route was reached (an app's hook made it wait): no event
    // of the stream is left to come.
    if (stream.destroyed) {
      reject(aborted());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: HopBodyError | Error | null) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
      if (error === null) resolve(Buffer.concat(chunks, received));
      else {
        // Stop reading: the answer goes out and the connection closes with the rest unread.
        stream.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () =>
      finish(
        expected === undefined || received === expected
          ? null
          : new HopBodyError('body_incomplete', 'The body is shorter than its Content-Length'),
      );
    const onError = (error: Error) => finish(error);
    const onAborted = () => finish(aborted());
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
  });
}

/**
 * The media type of a request's `Content-Type`, lower-cased and without parameters
 * (`application/json` for `Application/JSON; charset=utf-8`).
 * @internal
 */
export function mediaTypeOf(headers: IncomingHttpHeaders): string | undefined {
  const contentType = headers['content-type'];
  if (contentType === undefined) return undefined;
  // `indexOf` and `slice` rather than `split(';', 1)`, which V8 runs in its runtime.
  const end = contentType.indexOf(';');
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase();
}

function aborted(): HopBodyError {
  return new HopBodyError('body_incomplete', 'The request was aborted before its body ended');
}

function tooLarge(limit: number): HopBodyError {
  return new HopBodyError(
    'body_too_large',
    `The body is larger than the webhook route's bodyLimit (${limit} bytes)`,
  );
}
