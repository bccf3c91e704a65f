import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HopEventDataMap } from '../../core/event-data.types.js';
import { isHopEventName, type HopEventName } from '../../core/events.catalog.js';
import { buildHopEvent } from '../delivery.js';
import { errorAnswer, writeAnswer, type Answer } from './answer.js';
import {
  EMULATOR_HOST,
  resolveApiEmulatorConfig,
  type ResolvedApiEmulatorConfig,
} from './api-emulator.config.js';
import type {
  HopApiEmulatorOptions,
  HopEmulatorEmitOptions,
  HopEmulatorFailureOptions,
} from './api-emulator-options.interface.js';
import { answerApiRequest } from './api.routes.js';
import { answerControlRequest, isControlPath } from './control.routes.js';
import { EmulatorFaults } from './emulator-faults.js';
import { EmulatorWebhookStore } from './emulator-webhook.store.js';
import type {
  HopEmulatorEmitResult,
  HopEmulatorEvent,
  HopEmulatorRequest,
  HopEmulatorWebhook,
} from './emulator.types.js';
import { deliverEvent } from './event-delivery.js';
import { readBody, type ReceivedRequest } from './request.reader.js';

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
  private readonly store = new EmulatorWebhookStore();
  private readonly faults = new EmulatorFaults();
  private readonly log: HopEmulatorRequest[] = [];
  private closing?: Promise<void>;
  private baseUrl = '';

  private constructor(private readonly config: ResolvedApiEmulatorConfig) {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** Starts an emulator on 127.0.0.1 (an ephemeral port by default) and resolves once it listens. */
  static async start(options: HopApiEmulatorOptions = {}): Promise<HopApiEmulator> {
    const emulator = new HopApiEmulator(resolveApiEmulatorConfig(options));
    const { server } = emulator;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(emulator.config.port, EMULATOR_HOST, () => {
        server.off('error', reject);
        // Kept, not re-read: the address is gone once the server is closed.
        const { port } = server.address() as AddressInfo;
        emulator.baseUrl = `http://${EMULATOR_HOST}:${port}`;
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
    return this.store.list(projectId);
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
    const deliveries = await Promise.all(
      targets.map((webhook) => deliverEvent(webhook, event, this.config.deliveryTimeoutMs)),
    );
    return { event, deliveries };
  }

  /**
   * Makes the next `count` API requests (`/v1/…`, not `/_emulator/…`) answer `status` with
   * Hop's error envelope, and a `Retry-After` header when `retryAfterSeconds` is given: for
   * testing a client's retries. Calls queue up: `failNext(1, 503); failNext(1, 429)` fails the
   * next request with 503 and the one after with 429.
   */
  failNext(count: number, status: number, options: HopEmulatorFailureOptions = {}): void {
    this.faults.failNext(count, status, options);
  }

  /**
   * Holds the answers of the next `count` API requests for `ms` milliseconds, then handles
   * them normally: for testing a client's timeouts.
   */
  delayNext(count: number, ms: number): void {
    this.faults.delayNext(count, ms);
  }

  /** Forgets every webhook, pending failure and delay, and the request log. */
  reset(): void {
    this.store.clear();
    this.faults.clear();
    this.log.length = 0;
  }

  /** Stops the server and drops open connections, keep-alive ones included. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.faults.cancelTimers();
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://emulator.invalid').pathname;
    const isControl = isControlPath(path);
    let answer: Answer;
    try {
      const received: ReceivedRequest = {
        method,
        path,
        authorization: request.headers.authorization,
        body: await readBody(request),
      };
      if (isControl) {
        answer = await answerControlRequest(received, this);
      } else {
        const failure = await this.faults.next();
        answer = failure
          ? errorAnswer(failure)
          : answerApiRequest(received, this.store, this.config.acceptedTokens);
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
      this.config.onRequest?.(entry);
    } catch {
      // A throwing observer must not break the emulator's answers.
    }
  }
}
