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

  /** Sends one call and returns its `data` (undefined for 204). */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt<T>(method, path, body);
      if (outcome.error === undefined) return outcome.data;
      const { error } = outcome;
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

  private async attempt<T>(method: Method, path: string, body: unknown): Promise<Attempt<T>> {
    let response: Response | undefined;
    let text: string;
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
      });
      // The timeout covers the body too: headers followed by a stalled or cut-off body are no
      // whole answer, so they fail (and are retried) like a request that got none; the status
      // stays on the error (a POST answered 201 may have created its webhook).
      text = await response.text();
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
    const json = readJsonObject(text);
    const envelope = typeof json === 'string' ? undefined : (json as HopApiEnvelope<T>);
    if (response.ok && envelope?.success !== false) {
      if (response.status === 204 || (envelope?.success === true && envelope.data !== undefined)) {
        return { data: envelope?.data as T };
      }
      // A mistyped baseUrl, a proxy or a captive portal can answer 200 with something else.
      return {
        error: new HopApiError(
          response.status,
          'invalid_response',
          'the answer is not Hop\'s { "success": true, "data": … } envelope (is api.baseUrl right?)',
          method,
          path,
        ),
      };
    }
    const error = new HopApiError(
      response.status,
      typeof envelope?.error?.code === 'string' ? envelope.error.code : `http_${response.status}`,
      typeof envelope?.error?.message === 'string'
        ? envelope.error.message
        : response.statusText || 'no error message',
      method,
      path,
    );
    return { error, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }

  private retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_DELAY_MS);
    const backoff = backoffMs(attempt, BACKOFF_BASE_MS, MAX_RETRY_DELAY_MS);
    return Math.min(backoff + Math.floor(Math.random() * BACKOFF_BASE_MS), MAX_RETRY_DELAY_MS);
  }
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? 'request failed';
}
