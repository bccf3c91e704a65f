import type { IncomingMessage } from 'node:http';
import { readJsonObject } from '../../core/checks.js';
import { ApiFailure } from './answer.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** One request, read whole, as the emulator's routes see it. */
export interface ReceivedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  authorization: string | undefined;
  body: Buffer;
}

/** The whole request body; over 1 MiB is refused rather than buffered. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) {
    throw new ApiFailure(413, 'payload_too_large', 'The request body is over 1 MiB');
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object, or a `400` saying what it is instead. */
export function readJsonBody(rawBody: Buffer): Record<string, unknown> {
  const body = readJsonObject(rawBody.toString('utf8'));
  if (body === 'not_json') {
    throw new ApiFailure(400, 'validation_error', 'The request body is not valid JSON');
  }
  if (body === 'not_object') {
    throw new ApiFailure(400, 'validation_error', 'The request body must be a JSON object');
  }
  return body;
}
