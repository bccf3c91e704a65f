import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HopEventDataMap } from '../hop-event-data.types.js';
import type { HopEventEnvelope } from '../hop-event.types.js';
import { isHopEventName, type HopEventName } from '../hop-events.catalog.js';
import { buildHopEvent, hopId, signHopDelivery } from './hop-delivery.js';

/** Options of {@link HopApiEmulator.start}. */
export interface HopApiEmulatorOptions {
  /** Port on 127.0.0.1; `0` (the default) picks a free one, read it back from `url`. */
  port?: number;
  /**
   * The only tokens accepted in `Authorization`. Without it, any well-formed token is
   * accepted: `ptk_`, `pat_` or `bearer_` followed by letters, digits, `_` or `-`.
   */
  tokens?: readonly string[];
  /** How long each delivery of {@link HopApiEmulator.emit} may take to be answered. Default 10 000 ms. */
  deliveryTimeoutMs?: number;
  /** Called after each API request (`/v1/…`) is answered, e.g. to print it. Never sees the token. */
  onRequest?: (request: HopEmulatorRequest) => void;
}

/** A webhook as the emulator stores it and Hop's API returns it (`secret` in full here). */
export interface HopEmulatorWebhook {
  /** `webhook_…` */
  id: string;
  /** `project_…` */
  project_id: string;
  type: 'http';
  /** Where deliveries are posted. */
  webhook_url: string;
  /** The events this webhook is subscribed to. */
  events: HopEventName[];
  /** `whsec_…`: the key of every delivery's `X-Hop-Hooks-Signature`. */
  secret: string;
  /** ISO-8601 */
  created_at: string;
}

/** The event of one {@link HopApiEmulator.emit}, without the per-webhook `webhook_id` and `project_id`. */
export type HopEmulatorEvent = Omit<HopEventEnvelope<string, unknown>, 'webhook_id' | 'project_id'>;

/** How one webhook's delivery went. */
export interface HopEmulatorDelivery {
  webhookId: string;
  projectId: string;
  url: string;
  /** The receiver's HTTP status; absent when the connection failed or timed out. */
  status?: number;
  /** Why no status was received (connection refused, timeout, …). */
  error?: string;
}

/** What {@link HopApiEmulator.emit} resolves with. */
export interface HopEmulatorEmitResult {
  /**
   * The event every webhook received. Each delivery's body also carries that webhook's
   * `webhook_id` and `project_id`, which are therefore left out here.
   */
  event: HopEmulatorEvent;
  /** One entry per subscribed webhook, in the order the webhooks were created. */
  deliveries: HopEmulatorDelivery[];
}

/** Options of {@link HopApiEmulator.emit}. */
export interface HopEmulatorEmitOptions {
  /** Deliver only to this project's webhooks; by default every project's subscribed webhooks. */
  projectId?: string;
}

/** Options of {@link HopApiEmulator.failNext}. */
export interface HopEmulatorFailureOptions {
  /** Sent as the `Retry-After` header, in whole seconds. */
  retryAfterSeconds?: number;
  /** The error envelope's `code`; by default derived from the status (`rate_limited` for 429, …). */
  code?: string;
  /** The error envelope's `message`. */
  message?: string;
}

/** One API request the emulator answered, as kept in {@link HopApiEmulator.requests}. */
export interface HopEmulatorRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  /** The status the emulator answered with. */
  readonly status: number;
  /** Whether an `Authorization` header was sent (the token itself is never kept). */
  readonly authorization: boolean;
}

const HOST = '127.0.0.1';
const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;
const TOKEN_FORMAT = /^(ptk|pat|bearer)_[A-Za-z0-9_-]+$/;
const PROJECT_ID_FORMAT = /^project_[A-Za-z0-9_-]+$/;
const SECRET_PREFIX = 'whsec_';
const THIS_PROJECT = '@this';
const API_ROUTES = '/v1/projects/:project/webhooks[/:webhook_id[/regenerate]]';
const CONTROL_ROUTES = 'GET /_emulator/webhooks, POST /_emulator/emit, POST /_emulator/reset';

const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  429: 'rate_limited',
  500: 'internal_server_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/** An answer in Hop's error envelope; thrown inside a handler, written by the dispatcher. */
class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  /** The JSON payload, envelope included; no body at all when absent. */
  body?: unknown;
  headers?: Record<string, string>;
}

interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Buffer;
}

interface QueuedFault<T> {
  remaining: number;
  fault: T;
}

interface Failure {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

type ApiRoute =
  | { kind: 'webhooks'; project: string }
  | { kind: 'webhook'; project: string; webhookId: string }
  | { kind: 'regenerate'; project: string; webhookId: string };

const ALLOWED_METHODS: Readonly<Record<ApiRoute['kind'], readonly string[]>> = {
  webhooks: ['GET', 'POST'],
  webhook: ['PATCH', 'DELETE'],
  regenerate: ['POST'],
};

/**
 * A local stand-in for Hop's webhook management API, in the spirit of `stripe-mock`: a real
 * HTTP server on 127.0.0.1 that stores webhooks per project and, on {@link emit}, delivers
 * signed events to them exactly as Hop does.
 *
 * - API: `GET|POST /v1/projects/:project/webhooks`, `PATCH|DELETE …/webhooks/:webhook_id`,
 *   `POST …/webhooks/:webhook_id/regenerate`, with Hop's envelopes and `Authorization: <token>`.
 *   Creating answers `201`; deleting `204`; the rest `200`.
 * - Controls (no token needed: they are the emulator's own, and it listens on loopback only):
 *   `POST /_emulator/emit` `{ event, data?, project_id? }`, `GET /_emulator/webhooks` (full
 *   secrets) and `POST /_emulator/reset`.
 * - Deliveries are tried once, like a test wants them: the emulator never retries.
 *
 * @example
 * const hop = await HopApiEmulator.start();
 * const client = new MyHopClient({ baseUrl: hop.url, token: 'ptk_test' });
 * await client.createWebhook(`${appUrl}/hop/webhook`, ['ignite.deployment.build.updated']);
 * const { deliveries } = await hop.emit('ignite.deployment.build.updated');
 * expect(deliveries[0].status).toBe(204);
 * await hop.close();
 */
export class HopApiEmulator {
  private readonly server: Server;
  private readonly store = new Map<string, HopEmulatorWebhook>();
  private readonly log: HopEmulatorRequest[] = [];
  private failures: QueuedFault<Failure>[] = [];
  private delays: QueuedFault<number>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly acceptedTokens?: ReadonlySet<string>;
  private readonly deliveryTimeoutMs: number;
  private readonly onRequest?: (request: HopEmulatorRequest) => void;
  private closing?: Promise<void>;
  private baseUrl = '';

  private constructor(options: HopApiEmulatorOptions) {
    this.acceptedTokens = options.tokens && new Set(options.tokens);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.onRequest = options.onRequest;
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** Starts an emulator on 127.0.0.1 (an ephemeral port by default) and resolves once it listens. */
  static async start(options: HopApiEmulatorOptions = {}): Promise<HopApiEmulator> {
    checkOptions(options);
    const emulator = new HopApiEmulator(options);
    await new Promise<void>((resolve, reject) => {
      emulator.server.once('error', reject);
      emulator.server.listen(options.port ?? 0, HOST, () => {
        emulator.server.off('error', reject);
        // Kept, not re-read: the address is gone once the server is closed.
        const { port } = emulator.server.address() as AddressInfo;
        emulator.baseUrl = `http://${HOST}:${port}`;
        resolve();
      });
    });
    return emulator;
  }

  /** The base URL, e.g. `http://127.0.0.1:41234`: pass it as the `baseUrl` of a Hop client. */
  get url(): string {
    return this.baseUrl;
  }

  /** Every API request answered since the start or the last {@link reset}, oldest first. */
  get requests(): readonly HopEmulatorRequest[] {
    return [...this.log];
  }

  /** The stored webhooks, with their full secrets: all of them, or those of `projectId`. */
  webhooks(projectId?: string): HopEmulatorWebhook[] {
    return [...this.store.values()]
      .filter((webhook) => projectId === undefined || webhook.project_id === projectId)
      .map(copyWebhook);
  }

  /**
   * Delivers one event to every webhook subscribed to `eventName` (of every project, or of
   * `options.projectId`), concurrently, signed with each webhook's current secret. Every
   * webhook receives the same event `id`, with its own `webhook_id` and `project_id`, as from
   * Hop. `data` defaults to a realistic example of that event. Resolves once every delivery
   * was answered, failed or timed out; nothing is retried.
   *
   * @throws TypeError when `eventName` is not in `HOP_EVENTS` (no webhook can subscribe to it).
   */
  emit<N extends HopEventName>(
    eventName: N,
    data?: HopEventDataMap[N],
    options?: HopEmulatorEmitOptions,
  ): Promise<HopEmulatorEmitResult>;
  emit(
    eventName: string,
    data?: unknown,
    options?: HopEmulatorEmitOptions,
  ): Promise<HopEmulatorEmitResult>;
  async emit(
    eventName: string,
    data?: unknown,
    options: HopEmulatorEmitOptions = {},
  ): Promise<HopEmulatorEmitResult> {
    if (typeof eventName !== 'string' || !isHopEventName(eventName)) {
      throw new TypeError(
        `${JSON.stringify(eventName)} is not an event Hop sends, so no webhook can subscribe to it: pick a name from HOP_EVENTS (to test a name Hop may add later, post it to your app with postHopEvent)`,
      );
    }
    const built = buildHopEvent(eventName, data === undefined ? {} : { data });
    const event: HopEmulatorEvent = {
      id: built.id,
      event: built.event,
      occurred_at: built.occurred_at,
      data: built.data,
    };
    // Subscriptions and secrets are read now: a webhook changed mid-flight does not alter this emit.
    const targets = this.webhooks(options.projectId).filter((webhook) =>
      webhook.events.includes(eventName),
    );
    const deliveries = await Promise.all(targets.map((webhook) => this.deliver(webhook, event)));
    return { event, deliveries };
  }

  /**
   * Makes the next `count` API requests (`/v1/…`, not `/_emulator/…`) answer `status` with
   * Hop's error envelope, and a `Retry-After` header when `retryAfterSeconds` is given: for
   * testing a client's retries. Calls queue up: `failNext(1, 503); failNext(1, 429)` fails the
   * next request with 503 and the one after with 429.
   */
  failNext(count: number, status: number, options: HopEmulatorFailureOptions = {}): void {
    checkCount(count, 'failNext');
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(
        `failNext: status must be an HTTP error status (400-599), got ${status}`,
      );
    }
    const { retryAfterSeconds } = options;
    if (
      retryAfterSeconds !== undefined &&
      (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0)
    ) {
      throw new RangeError(
        `failNext: retryAfterSeconds must be a whole number of seconds >= 0, got ${retryAfterSeconds}`,
      );
    }
    const failure: Failure = {
      status,
      code: options.code ?? CODE_BY_STATUS[status] ?? 'emulated_failure',
      message: options.message ?? `Failure injected by the emulator (failNext): ${status}`,
      retryAfterSeconds,
    };
    this.failures.push({ remaining: count, fault: failure });
  }

  /**
   * Holds the answers of the next `count` API requests for `ms` milliseconds, then handles
   * them normally: for testing a client's timeouts.
   */
  delayNext(count: number, ms: number): void {
    checkCount(count, 'delayNext');
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`delayNext: ms must be a number of milliseconds >= 0, got ${ms}`);
    }
    this.delays.push({ remaining: count, fault: ms });
  }

  /** Forgets every webhook, pending failure and delay, and the request log. */
  reset(): void {
    this.store.clear();
    this.failures = [];
    this.delays = [];
    this.log.length = 0;
  }

  /** Stops the server and drops open connections, keep-alive ones included. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://emulator.invalid').pathname;
    const isControl = path === '/_emulator' || path.startsWith('/_emulator/');
    let answer: Answer;
    try {
      const received: ReceivedRequest = {
        method,
        path,
        authorization: request.headers.authorization,
        body: await readBody(request),
      };
      if (isControl) {
        answer = await this.handleControl(received);
      } else {
        const delay = takeFault(this.delays);
        if (delay !== undefined) await this.wait(delay);
        const failure = takeFault(this.failures);
        answer = failure ? failureAnswer(failure) : this.handleApi(received);
      }
    } catch (error) {
      answer = errorAnswer(error);
    }
    writeAnswer(response, answer);
    if (isControl) return;
    const authorization = Boolean(request.headers.authorization);
    this.record({ method, path, status: answer.status, authorization });
  }

  private record(entry: HopEmulatorRequest): void {
    this.log.push(entry);
    try {
      this.onRequest?.(entry);
    } catch {
      // A throwing observer must not break the emulator's answers.
    }
  }

  private async handleControl(request: ReceivedRequest): Promise<Answer> {
    const routes: Record<string, Record<string, () => Promise<Answer> | Answer>> = {
      '/_emulator/webhooks': { GET: () => success(200, { webhooks: this.webhooks() }) },
      '/_emulator/emit': { POST: () => this.emitFromHttp(request.body) },
      '/_emulator/reset': {
        POST: () => {
          this.reset();
          return { status: 204 };
        },
      },
    };
    const route = routes[request.path];
    if (!route) {
      throw new ApiFailure(
        404,
        'route_not_found',
        `No emulator route ${request.path}: the controls are ${CONTROL_ROUTES}`,
      );
    }
    const handler = route[request.method];
    if (!handler) throw methodNotAllowed(request, Object.keys(route));
    return handler();
  }

  private async emitFromHttp(rawBody: Buffer): Promise<Answer> {
    const body = parseJsonObject(rawBody);
    const { event, data, project_id: projectId } = body;
    if (typeof event !== 'string' || !isHopEventName(event)) {
      throw new ApiFailure(
        400,
        'validation_error',
        '`event` must be the name of an event Hop sends, e.g. "ignite.deployment.build.updated"',
      );
    }
    if (projectId !== undefined && typeof projectId !== 'string') {
      throw new ApiFailure(
        400,
        'validation_error',
        '`project_id` must be a project id (project_…)',
      );
    }
    return success(200, await this.emit(event, data, { projectId }));
  }

  private handleApi(request: ReceivedRequest): Answer {
    const route = matchApiRoute(request.path);
    if (!route) {
      throw new ApiFailure(
        404,
        'route_not_found',
        `No route ${request.method} ${request.path}: the emulator serves ${API_ROUTES}`,
      );
    }
    const allowed = ALLOWED_METHODS[route.kind];
    if (!allowed.includes(request.method)) throw methodNotAllowed(request, allowed);
    const token = this.authenticate(request.authorization);
    const projectId = resolveProject(route.project, token);

    if (route.kind === 'webhooks') {
      if (request.method === 'GET') {
        return success(200, { webhooks: this.webhooks(projectId).map(maskWebhook) });
      }
      return success(201, { webhook: this.create(projectId, request.body) });
    }
    const webhook = this.store.get(route.webhookId);
    if (!webhook || webhook.project_id !== projectId) {
      throw new ApiFailure(
        404,
        'not_found',
        `Webhook ${route.webhookId} does not exist in project ${projectId}`,
      );
    }
    if (route.kind === 'regenerate') {
      webhook.secret = newSecret();
      return success(200, { secret: webhook.secret });
    }
    if (request.method === 'DELETE') {
      this.store.delete(webhook.id);
      return { status: 204 };
    }
    const changes = readWebhookFields(parseJsonObject(request.body), 'edit');
    Object.assign(webhook, changes);
    return success(200, { webhook: maskWebhook(copyWebhook(webhook)) });
  }

  private create(projectId: string, rawBody: Buffer): HopEmulatorWebhook {
    const fields = readWebhookFields(parseJsonObject(rawBody), 'create');
    const webhook: HopEmulatorWebhook = {
      id: hopId('webhook'),
      project_id: projectId,
      type: 'http',
      webhook_url: fields.webhook_url!,
      events: fields.events!,
      secret: newSecret(),
      created_at: new Date().toISOString(),
    };
    this.store.set(webhook.id, webhook);
    return copyWebhook(webhook);
  }

  /** Checks `Authorization` and returns the token; messages never repeat it. */
  private authenticate(header: string | undefined): string {
    if (header === undefined || header === '') {
      throw new ApiFailure(
        401,
        'unauthorized',
        'The Authorization header is missing: send the raw token (ptk_…, pat_… or bearer_…)',
      );
    }
    if (/^bearer\s/i.test(header)) {
      throw new ApiFailure(
        401,
        'unauthorized',
        'Authorization must be the raw token, without the word "Bearer" before it',
      );
    }
    if (!TOKEN_FORMAT.test(header)) {
      throw new ApiFailure(
        401,
        'unauthorized',
        'Authorization is not a Hop token: expected ptk_…, pat_… or bearer_… followed by letters, digits, _ or -',
      );
    }
    if (this.acceptedTokens && !this.acceptedTokens.has(header)) {
      throw new ApiFailure(
        401,
        'unauthorized',
        'This token is not accepted: the emulator was started with a list of tokens and it is not in it',
      );
    }
    return header;
  }

  private async deliver(
    webhook: HopEmulatorWebhook,
    event: HopEmulatorEvent,
  ): Promise<HopEmulatorDelivery> {
    const envelope = {
      id: event.id,
      event: event.event,
      webhook_id: webhook.id,
      project_id: webhook.project_id,
      occurred_at: event.occurred_at,
      data: event.data,
    };
    const { body, headers } = signHopDelivery(envelope, webhook.secret);
    const target = {
      webhookId: webhook.id,
      projectId: webhook.project_id,
      url: webhook.webhook_url,
    };
    try {
      const response = await fetch(webhook.webhook_url, {
        method: 'POST',
        body,
        headers,
        // Hop posts to the registered URL only; a redirect is reported, not followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.deliveryTimeoutMs),
      });
      // Reading the answer to its end frees the connection for the next delivery.
      await response.arrayBuffer().catch(() => undefined);
      return { ...target, status: response.status };
    } catch (error) {
      return { ...target, error: describeDeliveryError(error, this.deliveryTimeoutMs) };
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function checkOptions(options: HopApiEmulatorOptions): void {
  const { port, tokens, deliveryTimeoutMs } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new RangeError(
      `port must be an integer from 0 to 65535 (0 picks a free port), got ${port}`,
    );
  }
  if (tokens !== undefined) {
    if (!Array.isArray(tokens) || tokens.length === 0) {
      throw new TypeError(
        'tokens must be a non-empty array of tokens; omit it to accept any well-formed token',
      );
    }
    tokens.forEach((token: unknown, index) => {
      // The index, not the value, names the culprit: tokens never appear in messages.
      if (typeof token !== 'string' || !TOKEN_FORMAT.test(token)) {
        throw new TypeError(
          `tokens[${index}] is not a Hop token: expected ptk_…, pat_… or bearer_… followed by letters, digits, _ or -`,
        );
      }
    });
  }
  if (
    deliveryTimeoutMs !== undefined &&
    (!Number.isFinite(deliveryTimeoutMs) || deliveryTimeoutMs <= 0)
  ) {
    throw new RangeError(`deliveryTimeoutMs must be a positive number, got ${deliveryTimeoutMs}`);
  }
}

function checkCount(count: number, method: string): void {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`${method}: count must be a whole number >= 1, got ${count}`);
  }
}

/** The oldest queued fault, used up one request at a time. */
function takeFault<T>(queue: QueuedFault<T>[]): T | undefined {
  const head = queue[0];
  if (!head) return undefined;
  head.remaining -= 1;
  if (head.remaining === 0) queue.shift();
  return head.fault;
}

function matchApiRoute(path: string): ApiRoute | undefined {
  const segments = path.split('/').slice(1);
  if (segments.length < 4 || segments.length > 6) return undefined;
  const [version, projects, rawProject, webhooks, rawWebhookId, action] = segments;
  if (version !== 'v1' || projects !== 'projects' || webhooks !== 'webhooks') return undefined;
  const project = decodeSegment(rawProject!);
  if (!project) return undefined;
  if (rawWebhookId === undefined) return { kind: 'webhooks', project };
  const webhookId = decodeSegment(rawWebhookId);
  if (!webhookId) return undefined;
  if (action === undefined) return { kind: 'webhook', project, webhookId };
  return action === 'regenerate' ? { kind: 'regenerate', project, webhookId } : undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment) || undefined;
  } catch {
    return undefined;
  }
}

/** The project a request acts on, from the path's `:project` and the kind of token. */
function resolveProject(project: string, token: string): string {
  const isProjectToken = token.startsWith('ptk_');
  if (project === THIS_PROJECT) {
    if (isProjectToken) return projectIdForToken(token);
    throw new ApiFailure(
      400,
      'invalid_project',
      'A project id is needed: @this only works with a project token (ptk_…); with a personal access token or bearer token, put the project id (project_…) in the path',
    );
  }
  if (!PROJECT_ID_FORMAT.test(project)) {
    throw new ApiFailure(
      400,
      'invalid_project',
      `${JSON.stringify(project)} is not a project id: use project_… or, with a project token, @this`,
    );
  }
  if (isProjectToken && project !== projectIdForToken(token)) {
    throw new ApiFailure(
      403,
      'forbidden',
      `This project token belongs to another project than ${project}: use @this, or a personal access token`,
    );
  }
  return project;
}

/**
 * The project a `ptk_` token stands for: derived from a hash of the token, so the same token
 * always reaches the same webhooks, in Hop's id style (a base64-encoded 18-digit number).
 */
function projectIdForToken(token: string): string {
  const digest = createHash('sha256').update(token).digest();
  const digits = (digest.readBigUInt64BE(0) % 10n ** 18n).toString().padStart(18, '0');
  return `project_${Buffer.from(digits).toString('base64')}`;
}

function newSecret(): string {
  // 24 random bytes are 32 url-safe characters.
  return SECRET_PREFIX + randomBytes(24).toString('base64url');
}

function maskWebhook(webhook: HopEmulatorWebhook): HopEmulatorWebhook {
  const hidden = webhook.secret.length - SECRET_PREFIX.length;
  return { ...webhook, secret: SECRET_PREFIX + '*'.repeat(hidden) };
}

function copyWebhook(webhook: HopEmulatorWebhook): HopEmulatorWebhook {
  return { ...webhook, events: [...webhook.events] };
}

function parseJsonObject(rawBody: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ApiFailure(400, 'validation_error', 'The request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiFailure(400, 'validation_error', 'The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * `webhook_url` and `events` of a create (both required) or an edit (at least one); every
 * problem is named in one message. Other fields are ignored, as Hop does.
 */
function readWebhookFields(
  body: Record<string, unknown>,
  purpose: 'create' | 'edit',
): Partial<Pick<HopEmulatorWebhook, 'webhook_url' | 'events'>> {
  const { webhook_url: url, events } = body;
  if (purpose === 'edit' && url === undefined && events === undefined) {
    throw new ApiFailure(
      400,
      'validation_error',
      'Nothing to edit: give `webhook_url`, `events` or both',
    );
  }
  const problems: string[] = [];
  const fields: Partial<Pick<HopEmulatorWebhook, 'webhook_url' | 'events'>> = {};
  if (url !== undefined || purpose === 'create') {
    if (isHttpUrl(url)) fields.webhook_url = url;
    else
      problems.push(
        '`webhook_url` must be an absolute http(s) URL, e.g. https://example.com/hop/webhook',
      );
  }
  if (events !== undefined || purpose === 'create') {
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((name) => typeof name === 'string')
    ) {
      problems.push('`events` must be a non-empty array of event names');
    } else {
      const unknown = events.filter((name) => !isHopEventName(name));
      if (unknown.length > 0) {
        problems.push(
          `\`events\` has names Hop does not send: ${[...new Set(unknown)].join(', ')}`,
        );
      } else {
        // A name listed twice is one subscription.
        fields.events = [...new Set(events as HopEventName[])];
      }
    }
  }
  if (problems.length > 0) throw new ApiFailure(400, 'validation_error', problems.join('; '));
  return fields;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function methodNotAllowed(request: ReceivedRequest, allowed: readonly string[]): ApiFailure {
  return new ApiFailure(
    405,
    'method_not_allowed',
    `${request.method} is not allowed on ${request.path}: use ${allowed.join(' or ')}`,
    { allow: allowed.join(', ') },
  );
}

function failureAnswer(failure: Failure): Answer {
  return errorAnswer(
    new ApiFailure(
      failure.status,
      failure.code,
      failure.message,
      failure.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(failure.retryAfterSeconds) },
    ),
  );
}

function errorAnswer(error: unknown): Answer {
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

function success(status: number, data: unknown): Answer {
  return { status, body: { success: true, data } };
}

function writeAnswer(response: ServerResponse, answer: Answer): void {
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

/** The whole request body; over 1 MiB is refused rather than buffered. */
async function readBody(request: IncomingMessage): Promise<Buffer> {
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

function describeDeliveryError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error ? (error.cause as { message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.message === 'string') return `connection failed: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
