import { inspect } from 'node:util';
import { Injectable, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HOP_EVENTS,
  HopApiError,
  HopConfigurationError,
  HopValidationError,
  HopWebhooksModule,
  HopWebhooksService,
  OnHopEvent,
  type HopApiOptions,
  type HopEventName,
} from '../../lib/index.js';
import {
  buildHopEvent,
  HopApiEmulator,
  postHopEvent,
  type HopApiEmulatorOptions,
  type HopEmulatorRequest,
} from '../../lib/testing/index.js';
import {
  startAnsweringServer,
  startFixedAnswerServer,
  type FixedAnswerServer,
} from '../src/fixed-answer-server.js';
import { CallRecorder, RoutingHandlers } from '../src/recording-handlers.js';
import { ADAPTERS, startTestApp, startupError, type TestApp } from '../src/test-app.js';

// Distinctive tokens, so that a leak into a message or a log line cannot go unnoticed.
const PTK = 'ptk_e2eProjectToken_neverInLogs_7c1e';
const PAT = 'pat_e2ePersonalToken_neverInLogs_2b9d';
const BEARER = 'bearer_e2eBearerToken_neverInLogs_5a0f';
const REFUSED_PTK = 'ptk_e2eRefusedToken_neverInLogs_9d44';
const PROJECT = 'project_MTY1MjU5NTk1NTAwNTY4NTc3';
const SECRET = 'whsec_e2e-service-configured-secret-0123';
const HOOK_URL = 'https://app.example.com/hop/webhook';
const OTHER_URL = 'https://other.example.com/hooks/hop';
const UNKNOWN_ID = 'webhook_MTIzNDU2Nzg5MDEyMzQ1Njc4';
const THIS_PROJECT_WEBHOOKS = '/v1/projects/@this/webhooks';
const FULL_SECRET = /^whsec_[A-Za-z0-9_-]{16,}$/;
const MASKED_SECRET = /^whsec_\*+$/;

/** Exact names, an array and one wildcard: the subscription they need is known exactly. */
@Injectable()
class SubscribedHandlers {
  @OnHopEvent('ignite.deployment.build.updated')
  onBuild(): void {}

  @OnHopEvent(['project.updated', 'ignite.deployment.created'])
  onProjectOrDeployment(): void {}

  @OnHopEvent('project.member.*')
  onMember(): void {}
}

const SUBSCRIBED: readonly HopEventName[] = [
  'ignite.deployment.created',
  'ignite.deployment.build.updated',
  'project.updated',
  'project.member.created',
  'project.member.updated',
  'project.member.deleted',
];

function sorted(names: readonly string[] | undefined): string[] {
  return [...(names ?? [])].sort();
}

/** `METHOD path status` of each logged API request, for compact assertions. */
function calls(requests: readonly HopEmulatorRequest[]): string[] {
  return requests.map((request) => `${request.method} ${request.path} ${request.status}`);
}

/** The error `promise` rejects with, checked to be a `type`. */
async function rejection<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) {
    throw new Error(`expected a ${type.name}, but the call resolved`, { cause: outcome.resolved });
  }
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}

/** Every form in which an error may end up in a log, a report or a response. */
function renderings(error: Error): string {
  return [
    error.message,
    error.stack ?? '',
    String(error),
    inspect(error, { depth: 10, showHidden: true }),
    JSON.stringify(error),
  ].join('\n');
}

async function elapsedMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * A loopback server that answers 200 with Hop's headers and the start of an envelope, then lets
 * the rest of the body stall or cuts the connection: the emulator's `delayNext` holds back the
 * whole answer, headers included, so it cannot stand for this.
 */
function startBodyBreakingServer(ending: 'stall' | 'cut'): Promise<FixedAnswerServer> {
  const envelope = '{"success":true,"data":{"webhooks":[]}}';
  return startAnsweringServer((response) => {
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(envelope.length),
    });
    response.write(envelope.slice(0, 12));
    if (ending === 'cut') setTimeout(() => response.socket?.destroy(), 20);
  });
}

describe.each(ADAPTERS)('HopWebhooksService in a %s app', (adapter) => {
  let hop: HopApiEmulator;
  const apps: TestApp[] = [];
  const emulators: HopApiEmulator[] = [];
  const foreignServers: FixedAnswerServer[] = [];

  beforeAll(async () => {
    hop = await HopApiEmulator.start();
  });
  afterAll(() => hop.close());
  beforeEach(() => hop.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((server) => server.close()));
    await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
    await Promise.all(foreignServers.splice(0).map((foreign) => foreign.close()));
    vi.restoreAllMocks();
  });

  /** An emulator of this test only, closed after it (its pending delays cannot leak out). */
  async function startEmulator(options?: HopApiEmulatorOptions): Promise<HopApiEmulator> {
    const emulator = await HopApiEmulator.start(options);
    emulators.push(emulator);
    return emulator;
  }

  /** A real app on loopback whose `api` talks to the emulator (`api: false` leaves it out). */
  async function startApp(
    options: { api?: Partial<HopApiOptions> | false; providers?: Provider[] } = {},
  ): Promise<{ server: TestApp; service: HopWebhooksService }> {
    const api =
      options.api === false ? {} : { api: { token: PTK, baseUrl: hop.url, ...options.api } };
    const server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot({ secret: SECRET, ...api })],
      providers: options.providers ?? [],
    });
    apps.push(server);
    return { server, service: server.app.get(HopWebhooksService) };
  }

  describe.each([
    {
      kind: 'a project token (ptk_), on @this',
      api: { token: PTK },
      pathProject: '@this',
      projectId: undefined,
    },
    {
      kind: 'a personal access token (pat_) and projectId',
      api: { token: PAT, projectId: PROJECT },
      pathProject: PROJECT,
      projectId: PROJECT,
    },
    {
      kind: 'a bearer token (bearer_) and projectId',
      api: { token: BEARER, projectId: PROJECT },
      pathProject: PROJECT,
      projectId: PROJECT,
    },
  ])('with $kind', ({ api, pathProject, projectId }) => {
    const collection = `/v1/projects/${pathProject}/webhooks`;
    let service: HopWebhooksService;

    beforeEach(async () => {
      ({ service } = await startApp({ api }));
    });

    it('creates a webhook in the project and returns it with its full secret', async () => {
      const webhook = await service.create(HOOK_URL, [
        'ignite.deployment.build.updated',
        'project.updated',
      ]);
      expect(webhook).toMatchObject({
        type: 'http',
        webhook_url: HOOK_URL,
        events: ['ignite.deployment.build.updated', 'project.updated'],
      });
      expect(webhook.id).toMatch(/^webhook_/);
      expect(webhook.secret).toMatch(FULL_SECRET);
      if (projectId !== undefined) expect(webhook.project_id).toBe(projectId);
      expect(hop.webhooks(webhook.project_id)).toEqual([webhook]);
      expect(hop.requests).toEqual([
        { method: 'POST', path: collection, status: 201, authorization: true },
      ]);
    });

    it('lists the project’s webhooks with their secrets masked', async () => {
      const first = await service.create(HOOK_URL, ['project.updated']);
      const second = await service.create(OTHER_URL, ['project.member.created']);
      const mark = hop.requests.length;
      const listed = await service.list();
      expect(listed.map((webhook) => webhook.id)).toEqual([first.id, second.id]);
      expect(listed[1]).toMatchObject({
        webhook_url: OTHER_URL,
        events: ['project.member.created'],
      });
      for (const webhook of listed) expect(webhook.secret).toMatch(MASKED_SECRET);
      expect(calls(hop.requests.slice(mark))).toEqual([`GET ${collection} 200`]);
    });

    it('gets one webhook by id', async () => {
      await service.create(OTHER_URL, ['project.updated']);
      const created = await service.create(HOOK_URL, ['project.tokens.created']);
      const webhook = await service.get(created.id);
      expect(webhook).toMatchObject({
        id: created.id,
        project_id: created.project_id,
        webhook_url: HOOK_URL,
        events: ['project.tokens.created'],
      });
      expect(webhook.secret).toMatch(MASKED_SECRET);
    });

    it('edits a webhook’s URL and events', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      const edited = await service.edit(created.id, {
        url: OTHER_URL,
        events: ['ignite.deployment.created', 'ignite.deployment.deleted'],
      });
      expect(edited).toMatchObject({
        id: created.id,
        webhook_url: OTHER_URL,
        events: ['ignite.deployment.created', 'ignite.deployment.deleted'],
      });
      const onlyEvents = await service.edit(created.id, { events: ['project.updated'] });
      expect(onlyEvents).toMatchObject({ webhook_url: OTHER_URL, events: ['project.updated'] });
      const [stored] = hop.webhooks(created.project_id);
      expect(stored).toMatchObject({ webhook_url: OTHER_URL, events: ['project.updated'] });
      expect(stored!.secret).toBe(created.secret);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `PATCH ${collection}/${created.id} 200`,
        `PATCH ${collection}/${created.id} 200`,
      ]);
    });

    it('deletes a webhook', async () => {
      const kept = await service.create(OTHER_URL, ['project.updated']);
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      await expect(service.delete(created.id)).resolves.toBeUndefined();
      expect(hop.webhooks().map((webhook) => webhook.id)).toEqual([kept.id]);
      expect(calls(hop.requests.slice(mark))).toEqual([`DELETE ${collection}/${created.id} 204`]);
    });

    it('regenerates a webhook’s secret and returns the new one', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      const secret = await service.regenerateSecret(created.id);
      expect(secret).toMatch(FULL_SECRET);
      expect(secret).not.toBe(created.secret);
      expect(hop.webhooks(created.project_id)[0]!.secret).toBe(secret);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `POST ${collection}/${created.id}/regenerate 200`,
      ]);
    });
  });

  it('manages only the webhooks of its own project', async () => {
    const { service: projectApp } = await startApp({ api: { token: PTK } });
    const { service: personalApp } = await startApp({ api: { token: PAT, projectId: PROJECT } });
    const mine = await projectApp.create(HOOK_URL, ['project.updated']);
    const theirs = await personalApp.create(HOOK_URL, ['project.updated']);
    expect(mine.project_id).not.toBe(PROJECT);
    expect(theirs.project_id).toBe(PROJECT);
    expect((await projectApp.list()).map((webhook) => webhook.id)).toEqual([mine.id]);
    expect((await personalApp.list()).map((webhook) => webhook.id)).toEqual([theirs.id]);
    expect(hop.webhooks(PROJECT).map((webhook) => webhook.id)).toEqual([theirs.id]);
  });

  describe('syncSubscriptions', () => {
    let server: TestApp;
    let service: HopWebhooksService;
    let url: string;

    beforeEach(async () => {
      ({ server, service } = await startApp({ providers: [SubscribedHandlers] }));
      url = server.url();
    });

    it('creates the webhook when none has the URL, subscribed to exactly the handled events', async () => {
      const result = await service.syncSubscriptions(url);
      expect(result).toMatchObject({ action: 'create', dryRun: false, url, removed: [] });
      expect(sorted(result.events)).toEqual(sorted(SUBSCRIBED));
      expect(sorted(result.added)).toEqual(sorted(SUBSCRIBED));
      expect(result.secret).toMatch(FULL_SECRET);
      const stored = hop.webhooks();
      expect(stored).toHaveLength(1);
      expect(stored[0]!.webhook_url).toBe(url);
      expect(sorted(stored[0]!.events)).toEqual(sorted(SUBSCRIBED));
      expect(stored[0]!.secret).toBe(result.secret);
      expect(result.webhook?.id).toBe(stored[0]!.id);
      expect(calls(hop.requests)).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 200`,
        `POST ${THIS_PROJECT_WEBHOOKS} 201`,
      ]);
      // The returned secret is accepted by the running receiver at once.
      const { deliveries } = await hop.emit('project.member.updated');
      expect(deliveries.map((delivery) => delivery.status)).toEqual([204]);
    });

    it('with a catch-all handler, subscribes to every event of the catalog', async () => {
      const { server: catchAll, service: catchAllService } = await startApp({
        providers: [CallRecorder, RoutingHandlers],
      });
      const result = await catchAllService.syncSubscriptions(catchAll.url());
      expect(result.action).toBe('create');
      expect(sorted(hop.webhooks()[0]!.events)).toEqual(sorted(HOP_EVENTS.map((e) => e.id)));
      expect(result.events).toHaveLength(33);
    });

    it('updates the existing webhook’s events, reporting what was added and removed', async () => {
      const created = await service.syncSubscriptions(url);
      const id = created.webhook!.id;
      await service.edit(id, {
        events: [
          'project.updated',
          'project.member.created',
          'project.tokens.created',
          'ignite.deployment.deleted',
        ],
      });
      const mark = hop.requests.length;
      const result = await service.syncSubscriptions(url);
      expect(result).toMatchObject({ action: 'update', dryRun: false, url });
      expect(sorted(result.added)).toEqual([
        'ignite.deployment.build.updated',
        'ignite.deployment.created',
        'project.member.deleted',
        'project.member.updated',
      ]);
      expect(sorted(result.removed)).toEqual([
        'ignite.deployment.deleted',
        'project.tokens.created',
      ]);
      expect(result.secret).toBeUndefined();
      expect(result.webhook?.id).toBe(id);
      const stored = hop.webhooks();
      expect(stored.map((webhook) => webhook.id)).toEqual([id]);
      expect(sorted(stored[0]!.events)).toEqual(sorted(SUBSCRIBED));
      expect(stored[0]!.secret).toBe(created.secret);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 200`,
        `PATCH ${THIS_PROJECT_WEBHOOKS}/${id} 200`,
      ]);
    });

    it('unsubscribes from events no handler wants any more', async () => {
      const existing = await service.create(url, [...SUBSCRIBED, 'project.finance.transaction']);
      const mark = hop.requests.length;
      const result = await service.syncSubscriptions(url);
      expect(result).toMatchObject({
        action: 'update',
        added: [],
        removed: ['project.finance.transaction'],
      });
      expect(sorted(hop.webhooks()[0]!.events)).toEqual(sorted(SUBSCRIBED));
      expect(calls(hop.requests.slice(mark))).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 200`,
        `PATCH ${THIS_PROJECT_WEBHOOKS}/${existing.id} 200`,
      ]);
    });

    it('changes nothing when the subscription already matches, whatever the order', async () => {
      const existing = await service.create(url, [...SUBSCRIBED].reverse());
      const mark = hop.requests.length;
      const result = await service.syncSubscriptions(url);
      expect(result).toMatchObject({ action: 'none', dryRun: false, added: [], removed: [] });
      expect(result.webhook?.id).toBe(existing.id);
      expect(result.secret).toBeUndefined();
      expect(calls(hop.requests.slice(mark))).toEqual([`GET ${THIS_PROJECT_WEBHOOKS} 200`]);
    });

    it('is idempotent: syncing again right away changes nothing', async () => {
      const first = await service.syncSubscriptions(url);
      const mark = hop.requests.length;
      const second = await service.syncSubscriptions(url);
      const third = await service.syncSubscriptions(url);
      expect(first.action).toBe('create');
      expect(second.action).toBe('none');
      expect(third.action).toBe('none');
      expect(hop.webhooks()).toHaveLength(1);
      expect(hop.requests.slice(mark).map((request) => request.method)).toEqual(['GET', 'GET']);
    });

    it('on a dry run, plans a create without making it', async () => {
      const result = await service.syncSubscriptions(url, { dryRun: true });
      expect(result).toMatchObject({ action: 'create', dryRun: true, url, removed: [] });
      expect(sorted(result.events)).toEqual(sorted(SUBSCRIBED));
      expect(sorted(result.added)).toEqual(sorted(SUBSCRIBED));
      expect(result.secret).toBeUndefined();
      expect(result.webhook).toBeUndefined();
      expect(hop.webhooks()).toEqual([]);
      expect(calls(hop.requests)).toEqual([`GET ${THIS_PROJECT_WEBHOOKS} 200`]);
    });

    it('on a dry run, plans an update without making it', async () => {
      const existing = await service.create(url, ['project.updated', 'project.secrets.created']);
      const mark = hop.requests.length;
      const result = await service.syncSubscriptions(url, { dryRun: true });
      expect(result).toMatchObject({ action: 'update', dryRun: true, url });
      expect(sorted(result.added)).toEqual(
        sorted(SUBSCRIBED.filter((name) => name !== 'project.updated')),
      );
      expect(result.removed).toEqual(['project.secrets.created']);
      expect(result.webhook?.id).toBe(existing.id);
      expect(hop.webhooks()[0]!.events).toEqual(['project.updated', 'project.secrets.created']);
      expect(calls(hop.requests.slice(mark))).toEqual([`GET ${THIS_PROJECT_WEBHOOKS} 200`]);
    });

    it('leaves the webhooks of other URLs alone', async () => {
      const other = await service.create(OTHER_URL, ['project.secrets.created']);
      const result = await service.syncSubscriptions(url);
      expect(result.action).toBe('create');
      const stored = hop.webhooks();
      expect(stored).toHaveLength(2);
      expect(stored.find((webhook) => webhook.id === other.id)).toEqual(other);
    });

    it('refuses to sync an app that handles no known event, before any request', async () => {
      const { service: bare } = await startApp();
      const error = await rejection(bare.syncSubscriptions(url), HopValidationError);
      expect(error.message).toContain('@OnHopEvent');
      expect(hop.requests).toEqual([]);
    });
  });

  describe('with the receiver running', () => {
    let server: TestApp;
    let service: HopWebhooksService;
    let recorder: CallRecorder;

    beforeEach(async () => {
      ({ server, service } = await startApp({ providers: [CallRecorder, RoutingHandlers] }));
      recorder = server.app.get(CallRecorder);
    });

    it('delivers to handlers with the secret of a created webhook, then of a regenerated one, until the webhook is deleted', async () => {
      const webhook = await service.create(server.url(), ['ignite.deployment.build.updated']);
      expect(webhook.secret).not.toBe(SECRET);

      const first = await hop.emit('ignite.deployment.build.updated');
      expect(first.deliveries).toEqual([
        expect.objectContaining({ webhookId: webhook.id, status: 204 }),
      ]);
      expect(recorder.handlersFor(first.event.id)).toEqual(['*', 'exact', 'ignite.**']);

      const secret = await service.regenerateSecret(webhook.id);
      expect(secret).not.toBe(webhook.secret);
      expect(secret).not.toBe(SECRET);
      expect(hop.webhooks()[0]!.secret).toBe(secret);
      const second = await hop.emit('ignite.deployment.build.updated');
      expect(second.deliveries).toEqual([
        expect.objectContaining({ webhookId: webhook.id, status: 204 }),
      ]);
      expect(recorder.handlersFor(second.event.id)).toEqual(['*', 'exact', 'ignite.**']);

      // The configured secret is still accepted alongside the new ones.
      const configured = buildHopEvent('ignite.deployment.build.updated');
      expect((await postHopEvent(server.url(), configured, SECRET)).status).toBe(204);

      await service.delete(webhook.id);
      const third = await hop.emit('ignite.deployment.build.updated');
      expect(third.deliveries).toEqual([]);
      expect(recorder.handlersFor(third.event.id)).toEqual([]);
    });

    it('stops accepting a secret once it has been regenerated again', async () => {
      const webhook = await service.create(server.url(), ['project.updated']);
      const rotatedAway = await service.regenerateSecret(webhook.id);
      const current = await service.regenerateSecret(webhook.id);
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url(), event, rotatedAway)).status).toBe(401);
      expect((await postHopEvent(server.url(), event, webhook.secret)).status).toBe(401);
      expect((await postHopEvent(server.url(), event, current)).status).toBe(204);
    });

    it('treats a URL with a trailing slash as the same webhook when syncing', async () => {
      const created = await service.syncSubscriptions(`${server.url()}/`);
      expect(created.action).toBe('create');
      const again = await service.syncSubscriptions(server.url());
      expect(again.action).toBe('none');
      expect(hop.webhooks()).toHaveLength(1);
    });

    it('refuses deliveries of a webhook whose secret it was never given', async () => {
      // Created beside the service, as from Hop's console: the receiver does not know its secret.
      const response = await fetch(`${hop.url}${THIS_PROJECT_WEBHOOKS}`, {
        method: 'POST',
        headers: { authorization: PTK, 'content-type': 'application/json' },
        body: JSON.stringify({ webhook_url: server.url(), events: ['project.updated'] }),
      });
      expect(response.status).toBe(201);
      const { deliveries, event } = await hop.emit('project.updated');
      expect(deliveries.map((delivery) => delivery.status)).toEqual([401]);
      expect(recorder.handlersFor(event.id)).toEqual([]);
    });
  });

  describe('retries', () => {
    let service: HopWebhooksService;

    beforeEach(async () => {
      ({ service } = await startApp());
    });

    it('retries a GET answered 503 until it succeeds', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      hop.failNext(2, 503);
      const listed = await service.list();
      expect(listed.map((webhook) => webhook.id)).toEqual([created.id]);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 503`,
        `GET ${THIS_PROJECT_WEBHOOKS} 503`,
        `GET ${THIS_PROJECT_WEBHOOKS} 200`,
      ]);
    });

    it('waits as long as Retry-After says before retrying a 429', async () => {
      hop.failNext(1, 429, { retryAfterSeconds: 1 });
      const took = await elapsedMs(() => service.list());
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(5_000);
      expect(calls(hop.requests)).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 429`,
        `GET ${THIS_PROJECT_WEBHOOKS} 200`,
      ]);
    });

    it('retries a PATCH answered 502', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      hop.failNext(1, 502);
      const edited = await service.edit(created.id, { events: ['project.member.created'] });
      expect(edited.events).toEqual(['project.member.created']);
      expect(hop.webhooks()[0]!.events).toEqual(['project.member.created']);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `PATCH ${THIS_PROJECT_WEBHOOKS}/${created.id} 502`,
        `PATCH ${THIS_PROJECT_WEBHOOKS}/${created.id} 200`,
      ]);
    });

    it('retries a DELETE answered 504', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      hop.failNext(1, 504);
      await service.delete(created.id);
      expect(hop.webhooks()).toEqual([]);
      expect(calls(hop.requests.slice(mark))).toEqual([
        `DELETE ${THIS_PROJECT_WEBHOOKS}/${created.id} 504`,
        `DELETE ${THIS_PROJECT_WEBHOOKS}/${created.id} 204`,
      ]);
    });

    it('never retries create: a 503 is a HopApiError after exactly one POST', async () => {
      hop.failNext(1, 503);
      const error = await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError);
      expect(error).toMatchObject({
        status: 503,
        code: 'service_unavailable',
        method: 'POST',
        path: THIS_PROJECT_WEBHOOKS,
      });
      expect(calls(hop.requests)).toEqual([`POST ${THIS_PROJECT_WEBHOOKS} 503`]);
      expect(hop.webhooks()).toEqual([]);
    });

    it('never retries regenerateSecret: a 503 is a HopApiError after exactly one POST', async () => {
      const created = await service.create(HOOK_URL, ['project.updated']);
      const mark = hop.requests.length;
      hop.failNext(1, 503);
      const error = await rejection(service.regenerateSecret(created.id), HopApiError);
      const path = `${THIS_PROJECT_WEBHOOKS}/${created.id}/regenerate`;
      expect(error).toMatchObject({ status: 503, method: 'POST', path });
      expect(calls(hop.requests.slice(mark))).toEqual([`POST ${path} 503`]);
      expect(hop.webhooks()[0]!.secret).toBe(created.secret);
    });

    it('never retries a POST answered 429, whatever Retry-After says', async () => {
      hop.failNext(1, 429, { retryAfterSeconds: 1 });
      let error: HopApiError | undefined;
      const took = await elapsedMs(async () => {
        error = await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError);
      });
      expect(error).toMatchObject({ status: 429, code: 'rate_limited', method: 'POST' });
      // One call in the log, answered before Retry-After (1 s) would have let a retry start.
      expect(took).toBeLessThan(1_000);
      expect(calls(hop.requests)).toEqual([`POST ${THIS_PROJECT_WEBHOOKS} 429`]);
    });

    it('does not retry an error that will not go away by waiting (500)', async () => {
      hop.failNext(1, 500);
      const error = await rejection(service.list(), HopApiError);
      expect(error).toMatchObject({ status: 500, code: 'internal_server_error', method: 'GET' });
      expect(hop.requests).toHaveLength(1);
    });

    it('gives up after maxRetries, with the last answer as a HopApiError', async () => {
      const { service: impatient } = await startApp({ api: { maxRetries: 1 } });
      hop.failNext(5, 503, { message: 'Hop is down for maintenance' });
      const error = await rejection(impatient.list(), HopApiError);
      expect(error).toMatchObject({
        status: 503,
        code: 'service_unavailable',
        hopMessage: 'Hop is down for maintenance',
        method: 'GET',
        path: THIS_PROJECT_WEBHOOKS,
      });
      expect(calls(hop.requests)).toEqual([
        `GET ${THIS_PROJECT_WEBHOOKS} 503`,
        `GET ${THIS_PROJECT_WEBHOOKS} 503`,
      ]);
    });

    it('reports an API that cannot be reached as a HopApiError without status', async () => {
      const gone = await HopApiEmulator.start();
      const baseUrl = gone.url;
      await gone.close();
      const { service: stranded } = await startApp({ api: { baseUrl, maxRetries: 1 } });
      const error = await rejection(stranded.list(), HopApiError);
      expect(error.status).toBeUndefined();
      expect(error).toMatchObject({ code: 'network_error', method: 'GET' });
    });
  });

  describe('timeouts', () => {
    it.each([
      ['list', 'GET', (service: HopWebhooksService) => service.list()],
      [
        'create',
        'POST',
        (service: HopWebhooksService) => service.create(HOOK_URL, ['project.updated']),
      ],
    ])(
      'gives up on %s after api.timeoutMs with a HopApiError coded timeout',
      async (_name, method, call) => {
        const slow = await startEmulator();
        const { service } = await startApp({
          api: { baseUrl: slow.url, timeoutMs: 200, maxRetries: 0 },
        });
        slow.delayNext(1, 1_000);
        let error: HopApiError | undefined;
        const took = await elapsedMs(async () => {
          error = await rejection(call(service), HopApiError);
        });
        expect(took).toBeLessThan(1_000);
        expect(error!.status).toBeUndefined();
        expect(error).toMatchObject({ code: 'timeout', method, path: THIS_PROJECT_WEBHOOKS });
      },
    );

    it('retries a GET that timed out, but never a POST', async () => {
      const slow = await startEmulator();
      const { service } = await startApp({ api: { baseUrl: slow.url, timeoutMs: 200 } });
      slow.delayNext(1, 1_000);
      expect(await service.list()).toEqual([]);
      slow.delayNext(1, 1_000);
      const error = await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError);
      expect(error.code).toBe('timeout');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(calls(slow.requests).filter((call) => call.startsWith('POST'))).toHaveLength(1);
      expect(calls(slow.requests).filter((call) => call.startsWith('GET'))).toHaveLength(2);
    });

    it.each([
      [
        'stalls',
        'stall',
        { code: 'timeout', hopMessage: "the answer's body did not end within 200 ms" },
      ],
      ['is cut off', 'cut', { code: 'network_error' }],
    ] as const)(
      'when the body %s after the headers, fails with the status kept: a GET is retried, a POST is not',
      async (_case, ending, failure) => {
        const halfway = await startBodyBreakingServer(ending);
        foreignServers.push(halfway);
        const { service } = await startApp({
          api: { baseUrl: halfway.url, timeoutMs: 200, maxRetries: 1 },
        });

        const listed = await rejection(service.list(), HopApiError);
        expect(listed.status).toBe(200);
        expect(listed).toMatchObject({ ...failure, method: 'GET', path: THIS_PROJECT_WEBHOOKS });
        expect(halfway.received).toEqual([
          `GET ${THIS_PROJECT_WEBHOOKS}`,
          `GET ${THIS_PROJECT_WEBHOOKS}`,
        ]);

        const created = await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError);
        expect(created.status).toBe(200);
        expect(created).toMatchObject({ ...failure, method: 'POST', path: THIS_PROJECT_WEBHOOKS });
        // A retry would have run before the call rejected.
        expect(halfway.received.slice(2)).toEqual([`POST ${THIS_PROJECT_WEBHOOKS}`]);
      },
    );

    it('waits well over a second for an answer by default', async () => {
      const { service } = await startApp();
      hop.delayNext(1, 1_200);
      const took = await elapsedMs(() => service.list());
      expect(took).toBeGreaterThanOrEqual(1_150);
      expect(calls(hop.requests)).toEqual([`GET ${THIS_PROJECT_WEBHOOKS} 200`]);
    });
  });

  describe('transport', () => {
    it('calls Hop with the global fetch, the raw token as Authorization', async () => {
      const { service } = await startApp();
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      await service.list();
      expect(fetchSpy).toHaveBeenCalledTimes(1);
      const [url, init] = fetchSpy.mock.calls[0]!;
      expect(String(url)).toBe(`${hop.url}${THIS_PROJECT_WEBHOOKS}`);
      expect(init?.method).toBe('GET');
      expect(new Headers(init?.headers).get('authorization')).toBe(PTK);
    });

    it('accepts a baseUrl with a trailing slash', async () => {
      const { service } = await startApp({ api: { baseUrl: `${hop.url}/` } });
      await service.create(HOOK_URL, ['project.updated']);
      expect(calls(hop.requests)).toEqual([`POST ${THIS_PROJECT_WEBHOOKS} 201`]);
    });

    it.each<[string, number, string, string]>([
      ['a 404 page in HTML', 404, 'text/html', '<html><h1>Not Found</h1></html>'],
      ['a 200 page in HTML', 200, 'text/html', '<html><h1>Welcome to the Wi-Fi</h1></html>'],
      ['a 200 JSON answer without data', 200, 'application/json', '{"success":true}'],
      ['a 200 envelope whose data is empty', 200, 'application/json', '{"success":true,"data":{}}'],
      ['a 204 with no body', 204, 'application/json', ''],
      ['a 302 redirect', 302, 'text/html', ''],
    ])(
      'reports %s instead of Hop’s envelope as a HopApiError',
      async (_case, status, contentType, body) => {
        const foreign = await startFixedAnswerServer(status, contentType, body);
        foreignServers.push(foreign);
        const { service } = await startApp({ api: { baseUrl: foreign.url, maxRetries: 0 } });
        for (const call of [
          () => service.list(),
          () => service.get(UNKNOWN_ID),
          () => service.create(HOOK_URL, ['project.updated']),
          () => service.edit(UNKNOWN_ID, { events: ['project.updated'] }),
          () => service.regenerateSecret(UNKNOWN_ID),
        ]) {
          const error = await rejection(call(), HopApiError);
          expect(error.path).toMatch(/^\/v1\/projects\/@this\/webhooks/);
          expect(error.status).toBe(status);
          if (status < 400) expect(error.code).toBe('invalid_response');
          expect(renderings(error)).not.toContain(PTK);
        }
        expect(foreign.received).toHaveLength(5);
      },
    );
  });

  describe('answers that are not Hop’s', () => {
    it('follows no redirect: the address it points to gets nothing, and create fails', async () => {
      const elsewhere = await startFixedAnswerServer(
        201,
        'application/json',
        '{"success":true,"data":{"webhook":{"id":"webhook_x","webhook_url":"u","events":[],"secret":"whsec_stolen"}}}',
      );
      const redirecting = await startAnsweringServer((response) =>
        response.writeHead(307, { location: `${elsewhere.url}/v1/projects/@this/webhooks` }).end(),
      );
      foreignServers.push(elsewhere, redirecting);
      const { service } = await startApp({ api: { baseUrl: redirecting.url } });
      const error = await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError);
      expect(error).toMatchObject({ status: 307, code: 'invalid_response', method: 'POST' });
      expect(elsewhere.received).toEqual([]);
    });

    it('stops reading an answer over 8 MiB and fails with invalid_response', async () => {
      const huge = `{"success":true,"data":{"webhooks":[],"padding":"${'x'.repeat(9 * 1024 * 1024)}"}}`;
      const foreign = await startFixedAnswerServer(200, 'application/json', huge);
      foreignServers.push(foreign);
      const { service } = await startApp({ api: { baseUrl: foreign.url, maxRetries: 0 } });
      const error = await rejection(service.list(), HopApiError);
      expect(error).toMatchObject({ status: 200, code: 'invalid_response' });
      expect(error.hopMessage).toContain('over 8388608 bytes');
    });

    it('refuses an answer whose Content-Length is over 8 MiB without waiting for its body', async () => {
      let hungUp!: Promise<void>;
      const foreign = await startAnsweringServer((response) => {
        // 64 MiB announced, a few bytes sent, and the rest never: reading on would time out.
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(64 * 1024 * 1024),
        });
        response.write('{"success":true,');
        hungUp = new Promise((resolve) => response.socket?.once('close', () => resolve()));
      });
      foreignServers.push(foreign);
      const { service } = await startApp({ api: { baseUrl: foreign.url, maxRetries: 0 } });
      const error = await rejection(service.list(), HopApiError);
      expect(error).toMatchObject({ status: 200, code: 'invalid_response' });
      expect(error.hopMessage).toContain('over 8388608 bytes');
      // The client let go of the connection rather than leaving the body unread on it.
      await hungUp;
    });

    it('masks the token wherever a server quotes it: code, message or reason phrase', async () => {
      let answered = 0;
      const foreign = await startAnsweringServer((response) => {
        answered += 1;
        if (answered === 1) {
          response.writeHead(401, `Bad ${PTK}`).end();
        } else {
          const error = { code: `c_${PTK}`, message: `bad ${PTK}` };
          response
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ success: false, error }));
        }
      });
      foreignServers.push(foreign);
      const { service } = await startApp({ api: { baseUrl: foreign.url } });
      const bare = await rejection(service.list(), HopApiError);
      expect(bare.hopMessage).toBe('Bad [token]');
      const quoted = await rejection(service.list(), HopApiError);
      expect([quoted.code, quoted.hopMessage]).toEqual(['c_[token]', 'bad [token]']);
      for (const error of [bare, quoted]) expect(renderings(error)).not.toContain(PTK);
    });

    it.each(['1.5', '-5', 'Abc, 99 Xyz 2015 07:28:00 GMT'])(
      'backs off as usual when Retry-After is %j, neither seconds nor an HTTP date',
      async (retryAfter) => {
        let answered = 0;
        const foreign = await startAnsweringServer((response) => {
          answered += 1;
          if (answered === 1) {
            response.writeHead(503, { 'retry-after': retryAfter }).end();
          } else {
            response
              .writeHead(200, { 'content-type': 'application/json' })
              .end('{"success":true,"data":{"webhooks":[]}}');
          }
        });
        foreignServers.push(foreign);
        const { server, service } = await startApp({ api: { baseUrl: foreign.url } });
        expect(await service.list()).toEqual([]);
        const retry = server.logger.lines('warn').find((line) => line.includes('retry 1 of 3'));
        // Backoff starts at 250 ms; `1.5` read as a date (in 2001) would have meant 0.
        expect(Number(/in (\d+) ms/.exec(retry ?? '')?.[1])).toBeGreaterThanOrEqual(250);
      },
    );

    it('counts a retried DELETE answered 404 as done: its lost first answer may have deleted it', async () => {
      let answered = 0;
      const foreign = await startAnsweringServer((response) => {
        answered += 1;
        // The first DELETE is carried out, but its answer is lost with the connection.
        if (answered === 1) response.socket?.destroy();
        else {
          response
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"success":false,"error":{"code":"not_found","message":"no such webhook"}}');
        }
      });
      foreignServers.push(foreign);
      const { service } = await startApp({ api: { baseUrl: foreign.url } });
      await expect(service.delete(UNKNOWN_ID)).resolves.toBeUndefined();
      expect(foreign.received).toEqual([
        `DELETE ${THIS_PROJECT_WEBHOOKS}/${UNKNOWN_ID}`,
        `DELETE ${THIS_PROJECT_WEBHOOKS}/${UNKNOWN_ID}`,
      ]);
      // Not retried, or not Hop's, a 404 is the webhook's absence (or a wrong address).
      const plain = await startFixedAnswerServer(
        404,
        'application/json',
        '{"success":false,"error":{"code":"not_found","message":"no such webhook"}}',
      );
      foreignServers.push(plain);
      const { service: direct } = await startApp({ api: { baseUrl: plain.url } });
      expect(await rejection(direct.delete(UNKNOWN_ID), HopApiError)).toMatchObject({
        status: 404,
      });
      let asked = 0;
      const proxy = await startAnsweringServer((response) => {
        asked += 1;
        if (asked === 1) response.writeHead(502).end();
        else response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      });
      foreignServers.push(proxy);
      const { service: proxied } = await startApp({ api: { baseUrl: proxy.url } });
      const error = await rejection(proxied.delete(UNKNOWN_ID), HopApiError);
      expect(error).toMatchObject({ status: 404, code: 'http_404' });
    });

    it.each<[string, number, string, string]>([
      ['a 200 page in HTML', 200, 'text/html', '<h1>Welcome to the Wi-Fi</h1>'],
      ['a 200 JSON answer that is not an envelope', 200, 'application/json', '{"deleted":true}'],
      ['a 302 redirect', 302, 'text/html', ''],
    ])('does not take %s for a deletion', async (_case, status, contentType, body) => {
      const foreign = await startFixedAnswerServer(status, contentType, body);
      foreignServers.push(foreign);
      const { service } = await startApp({ api: { baseUrl: foreign.url, maxRetries: 0 } });
      const error = await rejection(service.delete(UNKNOWN_ID), HopApiError);
      expect(error).toMatchObject({ status, code: 'invalid_response', method: 'DELETE' });
    });
  });

  describe('API errors', () => {
    it('reports a refused token as a HopApiError 401, without retrying', async () => {
      const strict = await startEmulator({ tokens: [PTK] });
      const { service: accepted } = await startApp({ api: { baseUrl: strict.url } });
      await expect(accepted.list()).resolves.toEqual([]);
      const { service } = await startApp({ api: { baseUrl: strict.url, token: REFUSED_PTK } });
      const mark = strict.requests.length;
      const error = await rejection(service.list(), HopApiError);
      expect(error).toMatchObject({
        status: 401,
        code: 'unauthorized',
        method: 'GET',
        path: THIS_PROJECT_WEBHOOKS,
      });
      expect(error.hopMessage).toContain('not accepted');
      expect(error.message).toContain('401');
      expect(error.message).toContain(`GET ${THIS_PROJECT_WEBHOOKS}`);
      expect(error.message).toContain('unauthorized');
      expect(calls(strict.requests.slice(mark))).toEqual([`GET ${THIS_PROJECT_WEBHOOKS} 401`]);
    });

    it.each([
      [
        'edit',
        'PATCH',
        `/${UNKNOWN_ID}`,
        (s: HopWebhooksService) => s.edit(UNKNOWN_ID, { events: ['project.updated'] }),
      ],
      ['delete', 'DELETE', `/${UNKNOWN_ID}`, (s: HopWebhooksService) => s.delete(UNKNOWN_ID)],
      [
        'regenerateSecret',
        'POST',
        `/${UNKNOWN_ID}/regenerate`,
        (s: HopWebhooksService) => s.regenerateSecret(UNKNOWN_ID),
      ],
      ['get', 'GET', '', (s: HopWebhooksService) => s.get(UNKNOWN_ID)],
    ])(
      'reports %s of an unknown webhook as a HopApiError 404',
      async (_name, method, suffix, call) => {
        const { service } = await startApp();
        await service.create(HOOK_URL, ['project.updated']);
        const error = await rejection(call(service), HopApiError);
        expect(error).toMatchObject({
          status: 404,
          code: 'not_found',
          method,
          path: `${THIS_PROJECT_WEBHOOKS}${suffix}`,
        });
        expect(error.hopMessage).toContain(UNKNOWN_ID);
        expect(error.message).toContain('404');
        expect(error.message).toContain(UNKNOWN_ID);
        expect(hop.webhooks()).toHaveLength(1);
      },
    );
  });

  describe('the token', () => {
    it('appears in no error or log line while calls are retried and fail', async () => {
      const { server, service } = await startApp({ api: { token: PAT, projectId: PROJECT } });
      const errors: Error[] = [];
      const collect = async (promise: Promise<unknown>) => {
        errors.push(await rejection(promise, HopApiError));
      };

      hop.failNext(1, 429, { retryAfterSeconds: 0 });
      await service.list();
      hop.failNext(4, 503);
      await collect(service.list());
      hop.failNext(1, 503);
      await collect(service.delete(UNKNOWN_ID));
      await collect(service.edit(UNKNOWN_ID, { url: HOOK_URL }));
      hop.failNext(1, 503);
      await collect(service.create(HOOK_URL, ['project.updated']));

      expect(errors).toHaveLength(4);
      expect(hop.requests.every((request) => request.authorization)).toBe(true);
      const warnings = server.logger.lines('warn').filter((line) => line.includes('retry'));
      expect(warnings.length).toBeGreaterThanOrEqual(5);
      for (const error of errors) expect(renderings(error)).not.toContain(PAT);
      expect(server.logger.text()).not.toContain(PAT);
      expect(server.logger.text()).not.toContain('neverInLogs');
    });

    it('appears in no error or log line when it is refused or the API does not answer', async () => {
      const strict = await startEmulator({ tokens: [PTK] });
      const { server, service } = await startApp({
        api: { baseUrl: strict.url, token: REFUSED_PTK, timeoutMs: 300 },
      });
      const errors = [
        await rejection(service.list(), HopApiError),
        await rejection(service.create(HOOK_URL, ['project.updated']), HopApiError),
      ];
      strict.failNext(2, 503);
      errors.push(await rejection(service.list(), HopApiError));
      // Every attempt of the list (the first and its three retries) goes unanswered.
      strict.delayNext(4, 1_000);
      errors.push(await rejection(service.list(), HopApiError));

      expect(
        errors.map((error) => (error as HopApiError).status ?? (error as HopApiError).code),
      ).toEqual([401, 401, 401, 'timeout']);
      for (const error of errors) expect(renderings(error)).not.toContain(REFUSED_PTK);
      expect(server.logger.text()).not.toContain(REFUSED_PTK);
      expect(server.logger.text()).not.toContain('neverInLogs');
    });
  });

  describe('argument checks', () => {
    const VALID = 'webhook_MTkzMDU5MTE4NzcyNDA0MjI3';
    type Call = (service: HopWebhooksService) => Promise<unknown>;

    it.each<[string, Call, string[]]>([
      [
        'a relative URL',
        (s) => s.create('/hop/webhook', ['project.updated']),
        ['absolute http(s) URL', '"/hop/webhook"'],
      ],
      [
        'an ftp URL',
        (s) => s.create('ftp://example.com/hop', ['project.updated']),
        ['"ftp://example.com/hop"'],
      ],
      [
        'a URL without a host',
        (s) => s.create('https://', ['project.updated']),
        ['absolute http(s) URL'],
      ],
      ['no events', (s) => s.create(HOOK_URL, []), ['non-empty']],
      [
        'a wildcard instead of event names',
        (s) => s.create(HOOK_URL, ['project.*' as HopEventName]),
        ['"project.*"'],
      ],
      ['a numeric id to get', (s) => s.get('123'), ['"123"']],
      ['an id of another kind to get', (s) => s.get('hook_x'), ['"hook_x"']],
      ['a bare prefix as id', (s) => s.get('webhook_'), ['"webhook_"']],
      [
        'an id with a path in it',
        (s) => s.delete('webhook_abc/regenerate'),
        ['"webhook_abc/regenerate"'],
      ],
      ['a bad id to edit', (s) => s.edit('123', { events: ['project.updated'] }), ['"123"']],
      ['a bad id to delete', (s) => s.delete('hook_x'), ['"hook_x"']],
      ['a bad id to regenerate', (s) => s.regenerateSecret('123'), ['"123"']],
      ['an edit with no change', (s) => s.edit(VALID, {}), ['`url`', '`events`']],
      ['an edit to a relative URL', (s) => s.edit(VALID, { url: 'hooks/hop' }), ['"hooks/hop"']],
      ['an edit to no events', (s) => s.edit(VALID, { events: [] }), ['non-empty']],
      [
        'an edit to unknown events',
        (s) => s.edit(VALID, { events: ['project.gone' as HopEventName] }),
        ['"project.gone"'],
      ],
      ['a sync of a relative URL', (s) => s.syncSubscriptions('/hop/webhook'), ['"/hop/webhook"']],
      [
        'a sync of an ftp URL',
        (s) => s.syncSubscriptions('ftp://example.com/hop'),
        ['"ftp://example.com/hop"'],
      ],
    ])('refuses %s before any request', async (_case, call, fragments) => {
      const { service } = await startApp({ providers: [SubscribedHandlers] });
      const error = await rejection(call(service), HopValidationError);
      for (const fragment of fragments) expect(error.message).toContain(fragment);
      expect(hop.requests).toEqual([]);
    });

    it('names every unknown event, and only those', async () => {
      const { service } = await startApp();
      const events = ['project.updated', 'project.exploded', 'ignite.nope'] as HopEventName[];
      const error = await rejection(service.create(HOOK_URL, events), HopValidationError);
      expect(error.message).toContain('"project.exploded"');
      expect(error.message).toContain('"ignite.nope"');
      expect(error.message).not.toContain('project.updated');
      expect(hop.requests).toEqual([]);
    });
  });

  describe('configuration', () => {
    it.each<[string, Partial<HopApiOptions>, string]>([
      ['a pat_ token without projectId', { token: PAT }, '`api.projectId`'],
      ['a bearer_ token without projectId', { token: BEARER }, '`api.projectId`'],
      ['a malformed projectId', { token: PAT, projectId: 'proj-42' }, '`api.projectId`'],
      ['a malformed token', { token: 'sk_live_neverInLogs_4242' }, '`api.token`'],
      ['a token with the word Bearer', { token: `Bearer ${PTK}` }, '`api.token`'],
      ['an empty token', { token: '' }, '`api.token`'],
      ['a baseUrl without scheme', { token: PTK, baseUrl: 'api.hop.io' }, '`api.baseUrl`'],
      ['an ftp baseUrl', { token: PTK, baseUrl: 'ftp://api.hop.io' }, '`api.baseUrl`'],
      [
        'a baseUrl with credentials',
        { token: PTK, baseUrl: 'https://user:neverInLogs@api.hop.io' },
        '`api.baseUrl`',
      ],
      [
        'a baseUrl with a query',
        { token: PTK, baseUrl: 'https://api.hop.io/?x=1' },
        '`api.baseUrl`',
      ],
      [
        'a baseUrl with an empty fragment',
        { token: PTK, baseUrl: 'https://api.hop.io#' },
        '`api.baseUrl`',
      ],
      ['a zero timeoutMs', { token: PTK, timeoutMs: 0 }, '`api.timeoutMs`'],
      ['a negative maxRetries', { token: PTK, maxRetries: -1 }, '`api.maxRetries`'],
    ])('refuses to start with %s, naming the option', async (_case, api, option) => {
      const error = await startupError(
        { imports: [HopWebhooksModule.forRoot({ secret: SECRET, api: api as HopApiOptions })] },
        adapter,
      );
      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toContain(option);
      expect(renderings(error)).not.toContain('neverInLogs');
    });

    it('starts without `api`, and then every call rejects naming the option', async () => {
      const { server, service } = await startApp({ api: false, providers: [SubscribedHandlers] });
      const attempts: (() => Promise<unknown>)[] = [
        () => service.list(),
        () => service.get(UNKNOWN_ID),
        () => service.create(HOOK_URL, ['project.updated']),
        () => service.edit(UNKNOWN_ID, { events: ['project.updated'] }),
        () => service.delete(UNKNOWN_ID),
        () => service.regenerateSecret(UNKNOWN_ID),
        () => service.syncSubscriptions(server.url()),
      ];
      for (const attempt of attempts) {
        const error = await rejection(attempt(), HopConfigurationError);
        expect(error.message).toContain('`api');
      }
      // The receiver itself works without `api`.
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    });

    it('takes `api` from a forRootAsync factory', async () => {
      const server = await startTestApp(adapter, {
        imports: [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ HOP_SECRET: SECRET, HOP_TOKEN: PAT, HOP_PROJECT: PROJECT })],
          }),
          HopWebhooksModule.forRootAsync({
            imports: [ConfigModule],
            inject: [ConfigService],
            useFactory: (config: ConfigService) => ({
              secret: config.getOrThrow<string>('HOP_SECRET'),
              api: {
                token: config.getOrThrow<string>('HOP_TOKEN'),
                projectId: config.getOrThrow<string>('HOP_PROJECT'),
                baseUrl: hop.url,
              },
            }),
          }),
        ],
        providers: [CallRecorder, RoutingHandlers],
      });
      apps.push(server);
      const service = server.app.get(HopWebhooksService);
      const webhook = await service.create(server.url(), ['project.member.created']);
      expect(hop.webhooks(PROJECT).map((stored) => stored.id)).toEqual([webhook.id]);
      expect(calls(hop.requests)).toEqual([`POST /v1/projects/${PROJECT}/webhooks 201`]);
      const { deliveries, event } = await hop.emit('project.member.created');
      expect(deliveries.map((delivery) => delivery.status)).toEqual([204]);
      expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual(['*', 'array']);
    });

    it('refuses to start when a forRootAsync factory gives a pat_ token without projectId', async () => {
      const error = await startupError(
        {
          imports: [
            HopWebhooksModule.forRootAsync({
              useFactory: () => ({ secret: SECRET, api: { token: PAT } }),
            }),
          ],
        },
        adapter,
      );
      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toContain('`api.projectId`');
      expect(error.message).not.toContain(PAT);
    });
  });
});
