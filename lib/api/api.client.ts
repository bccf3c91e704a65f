import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, readJsonObject } from '../core/checks.js';
import { HopApiError } from '../core/errors.js';

/** A webhook as Hop's API returns it. */
export interface HopWebhook {
  /** `webhook_…` */
  readonly id: string;
  /** `project_…` */
  readonly project_id: string;
  readonly type: 'http';
  readonly webhook_url: string;
  readonly events: readonly string[];
  /** In full only when the webhook was just created; masked with `*` otherwise. */
  readonly secret: string;
  readonly created_at: string;
}

/** How the client reaches Hop, checked at startup. */
export interface ResolvedHopApiConfig {
  readonly token: string;
  /** `@this` for a project token, else the project id. */
  readonly project: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Hop's answer: `{ success, data }`, or `{ success: false, error }`. */
interface HopApiEnvelope<T> {
  readonly success?: boolean;
  readonly data?: T;
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
}

type Attempt<T> =
  | { readonly data: T; readonly error?: undefined }
  | {
      readonly error: HopApiError;
      readonly retryAfterMs?: number;
      /** No whole answer came: none at all, or its body stalled or broke off. */
      readonly inTransit?: boolean;
    };

// Only answers that say "try again later", and only for requests that are safe to repeat:
// a retried POST could create a second webhook or rotate a secret twice.
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'PATCH', 'DELETE']);
const BACKOFF_BASE_MS = 250;
const MAX_RETRY_DELAY_MS = 30_000;
// Hop's answers are a few kilobytes; a larger one is not Hop's (a wrong baseUrl, a proxy).
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Whether a call's `data` has the shape the caller needs, checked before it is used. */
export type HopApiDataCheck<T> = (data: unknown) => data is T;

/**
 * Calls Hop's REST API with Node's `fetch`: the raw token in `Authorization`, a timeout per
 * request, retries with backoff (honouring `Retry-After`) for idempotent calls, and every
 * failure as a {@link HopApiError}. Framework-free.
 */
export class HopApiClient {
  constructor(
    private readonly config: ResolvedHopApiConfig,
    private readonly onRetry: (message: string) => void = () => {},
  ) {}

  /** The path of the project's webhooks collection, e.g. `/v1/projects/@this/webhooks`. */
  webhooksPath(webhookId?: string, action?: string): string {
    const parts = ['/v1/projects', encodeURIComponent(this.config.project), 'webhooks'];
    if (webhookId !== undefined) parts.push(encodeURIComponent(webhookId));
    if (action !== undefined) parts.push(action);
    return parts.join('/').replace('%40this', '@this');
  }

  /**
   * Sends one call and returns its `data`, which `expected` checks (a call that expects no
   * data, a `DELETE`, passes none: its answer must then be a 204 or Hop's envelope). A
   * `DELETE` answered Hop's 404 `not_found` after an attempt that may have been carried out
   * (no whole answer, or a gateway's 502 or 504) succeeded: that attempt may have deleted it.
   */
  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    expected?: HopApiDataCheck<T>,
  ): Promise<T> {
    let mayHaveRun = false;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(method, path, body, expected);
      if (outcome.error === undefined) return outcome.data;
      const { error } = outcome;
      if (method === 'DELETE' && mayHaveRun && error.status === 404 && error.code === 'not_found') {
        return undefined as T;
      }
      mayHaveRun ||= outcome.inTransit === true || error.status === 502 || error.status === 504;
      const retryable =
        IDEMPOTENT.has(method) &&
        attempt < this.config.maxRetries &&
        (outcome.inTransit === true ||
          (error.status !== undefined && RETRYABLE_STATUSES.has(error.status)));
      if (!retryable) throw error;
      const delay = this.retryDelay(attempt, outcome.retryAfterMs);
      this.onRetry(
        `Hop API ${method} ${path}: ${error.status ?? error.code}; retry ${attempt + 1} of ${this.config.maxRetries} in ${delay} ms`,
      );
      await sleep(delay);
    }
  }

  private async attempt<T>(
    method: Method,
    path: string,
    body: unknown,
    expected: HopApiDataCheck<T> | undefined,
  ): Promise<Attempt<T>> {
    let response: Response | undefined;
    let text: string | undefined;
    try {
      response = await fetch(`${this.config.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.config.token,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.timeoutMs),
        // Hop's API does not redirect: one that does is not Hop's, and must not get the body.
        redirect: 'manual',
      });
      // The timeout covers the body too: headers followed by a stalled or cut-off body are no
      // whole answer, so they fail (and are retried) like a request that got none; the status
      // stays on the error (a POST answered 201 may have created its webhook).
      text = await readAnswer(response);
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      const what = response === undefined ? 'no answer' : "the answer's body did not end";
      return {
        inTransit: true,
        error: new HopApiError(
          response?.status,
          timedOut ? 'timeout' : 'network_error',
          timedOut ? `${what} within ${this.config.timeoutMs} ms` : describeNetworkError(error),
          method,
          path,
        ),
      };
    }
    // A server that quotes the request's token gets it back masked, wherever it put it.
    const mask = (text: string) => text.replaceAll(this.config.token, '[token]');
    const refuse = (code: string, message: string): { readonly error: HopApiError } => ({
      error: new HopApiError(response.status, mask(code), mask(message), method, path),
    });
    if (text === undefined) {
      return refuse('invalid_response', `the answer is over ${MAX_ANSWER_BYTES} bytes: not Hop's`);
    }
    if (response.status >= 300 && response.status < 400) {
      return refuse(
        'invalid_response',
        'the answer is a redirect, which Hop never sends (is api.baseUrl right?)',
      );
    }
    const json = readJsonObject(text);
    const envelope = typeof json === 'string' ? undefined : (json as HopApiEnvelope<unknown>);
    if (response.ok && envelope?.success !== false) {
      if (expected === undefined && (response.status === 204 || envelope?.success === true)) {
        return { data: undefined as T };
      }
      const data = envelope?.success === true ? envelope.data : undefined;
      if (expected?.(data)) return { data: data as T };
      if (response.status !== 204 && envelope?.success === true && data !== undefined) {
        return refuse('invalid_response', "the answer's data is not what Hop answers to this call");
      }
      // A mistyped baseUrl, a proxy or a captive portal can answer 200 with something else.
      return refuse(
        'invalid_response',
        'the answer is not Hop\'s { "success": true, "data": … } envelope (is api.baseUrl right?)',
      );
    }
    const { error } = refuse(
      typeof envelope?.error?.code === 'string' ? envelope.error.code : `http_${response.status}`,
      typeof envelope?.error?.message === 'string'
        ? envelope.error.message
        : response.statusText || 'no error message',
    );
    return { error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }

  private retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_DELAY_MS);
    const backoff = backoffMs(attempt, BACKOFF_BASE_MS, MAX_RETRY_DELAY_MS);
    return Math.min(backoff + Math.floor(Math.random() * BACKOFF_BASE_MS), MAX_RETRY_DELAY_MS);
  }
}

/**
 * `Retry-After` in seconds or as an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), in
 * milliseconds from now; anything else (`1.5`, `-5`) is no advice, and backoff applies.
 */
function parseRetryAfter(value: string | null): number | undefined {
  const advice = value?.trim() ?? '';
  if (/^\d+$/.test(advice)) return Number(advice) * 1000;
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(advice)) {
    return undefined;
  }
  const date = Date.parse(advice);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The answer's body as text, or `undefined` if it is over {@link MAX_ANSWER_BYTES}. */
async function readAnswer(response: Response): Promise<string | undefined> {
  if (Number(response.headers.get('content-length')) > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'request failed';
}
