import type { ServerResponse } from 'node:http';
import type { ReceivedRequest } from './request.reader.js';

/** What the emulator answers one request with. */
export interface Answer {
  status: number;
  /** The JSON payload, envelope included; no body at all when absent. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** An answer in Hop's error envelope; thrown inside a handler, written by the dispatcher. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Hop's success envelope around `data`. */
export function success(status: number, data: unknown): Answer {
  return { status, body: { success: true, data } };
}

/** Hop's error envelope for what a handler threw; anything but an {@link ApiFailure} is a 500. */
export function errorAnswer(error: unknown): Answer {
  const failure =
    error instanceof ApiFailure
      ? error
      : new ApiFailure(500, 'internal_server_error', 'The emulator failed to handle this request');
  return {
    status: failure.status,
    body: { success: false, error: { code: failure.code, message: failure.message } },
    headers: { ...failure.headers },
  };
}

/** A `405` naming the methods the path takes, in the message and the `Allow` header. */
export function methodNotAllowed(request: ReceivedRequest, allowed: readonly string[]): ApiFailure {
  return new ApiFailure(
    405,
    'method_not_allowed',
    `${request.method} is not allowed on ${request.path}: use ${allowed.join(' or ')}`,
    { allow: allowed.join(', ') },
  );
}

/** Writes `answer` unless the client is already gone. */
export function writeAnswer(response: ServerResponse, answer: Answer): void {
  if (response.destroyed) return;
  if (answer.body === undefined) {
    response.writeHead(answer.status, answer.headers).end();
    return;
  }
  const body = JSON.stringify(answer.body);
  response
    .writeHead(answer.status, {
      ...answer.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
