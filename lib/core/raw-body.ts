import type { IncomingHttpHeaders } from 'node:http';

/**
 * The part of an Express or Fastify request the receiver reads. Nest stores the body's
 * bytes in `rawBody` when the app is created with `{ rawBody: true }`.
 */
export interface HopWebhookRequest {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody?: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * The body's bytes exactly as received, or `undefined` when the framework did not keep them.
 * A request without a body has no raw body to keep: it reads as empty.
 * @internal
 */
export function readRawBody(request: HopWebhookRequest): Buffer | undefined {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  const { headers } = request;
  const declaresBody =
    headers['transfer-encoding'] !== undefined ||
    (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  return declaresBody ? undefined : EMPTY;
}

/**
 * Whether the framework's JSON or form parser reads this request, and so would have kept
 * its raw body under `{ rawBody: true }`.
 * @internal
 */
export function isParsedContentType(headers: IncomingHttpHeaders): boolean {
  const mediaType = headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json' || mediaType === 'application/x-www-form-urlencoded';
}
