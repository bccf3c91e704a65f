import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyHopSignature } from '../../lib/core/signature.js';
import {
  HopApiEmulator,
  hopEventExampleData,
  type HopEmulatorWebhook,
} from '../../lib/testing/index.js';

const TOKEN = 'ptk_emulator-spec-token_0123';
const OTHER_TOKEN = 'ptk_another-project-token_4567';
const PAT = 'pat_personal-access-token_89ab';
const BUILD_UPDATED = 'ignite.deployment.build.updated';
const MEMBER_CREATED = 'project.member.created';
const WEBHOOKS = '/v1/projects/@this/webhooks';
const SECRET_FORMAT = /^whsec_[A-Za-z0-9_-]{32,}$/;

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A webhook receiver on loopback: `/ok` answers 204, `/broken` 500, `/hang` never answers. */
interface Receiver {
  readonly received: Received[];
  url(path: string): string;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks) });
      if (path.startsWith('/hang')) return;
      response.writeHead(path.startsWith('/broken') ? 500 : 204).end();
    });
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

/** A loopback URL on which nothing listens any more. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/gone`;
}

interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

describe('HopApiEmulator', () => {
  let hop: HopApiEmulator;
  let receiver: Receiver;
  /** Every answer body of the test, to check that no token ever comes back. */
  let answers: string[];

  async function call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = options.token;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(`${hop.url}${path}`, { method, headers, body });
    const text = await response.text();
    answers.push(text);
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: text === '' ? undefined : JSON.parse(text),
    };
  }

  async function createWebhook(
    url: string,
    events: string[] = [BUILD_UPDATED],
    token = TOKEN,
    path = WEBHOOKS,
  ): Promise<HopEmulatorWebhook> {
    const answer = await call('POST', path, { token, body: { webhook_url: url, events } });
    expect(answer.status).toBe(201);
    return answer.json.data.webhook;
  }

  function expectError(answer: ApiAnswer, status: number, code: string): string {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.json).toEqual({ success: false, error: { code, message: expect.any(String) } });
    return answer.json.error.message;
  }

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  beforeEach(async () => {
    hop = await HopApiEmulator.start();
    answers = [];
    receiver.received.length = 0;
  });
  afterEach(() => hop.close());

  describe('management API', () => {
    it('serves on loopback and creates a webhook with its full secret (201)', async () => {
      expect(hop.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const before = Date.now();

      const answer = await call('POST', WEBHOOKS, {
        token: TOKEN,
        body: { webhook_url: 'https://example.com/hop/webhook', events: [BUILD_UPDATED] },
      });

      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.json).toEqual({
        success: true,
        data: {
          webhook: {
            id: expect.stringMatching(/^webhook_[A-Za-z0-9+/=]+$/),
            project_id: expect.stringMatching(/^project_[A-Za-z0-9+/=]+$/),
            type: 'http',
            webhook_url: 'https://example.com/hop/webhook',
            events: [BUILD_UPDATED],
            secret: expect.stringMatching(SECRET_FORMAT),
            created_at: expect.any(String),
          },
        },
      });
      const { webhook } = answer.json.data;
      expect(new Date(webhook.created_at).toISOString()).toBe(webhook.created_at);
      expect(Date.parse(webhook.created_at)).toBeGreaterThanOrEqual(before - 1);
      expect(hop.webhooks()).toEqual([webhook]);
    });

    it('lists the project’s webhooks with secrets masked after the whsec_ prefix', async () => {
      const first = await createWebhook('https://example.com/a');
      const second = await createWebhook('https://example.com/b', [MEMBER_CREATED]);

      const answer = await call('GET', WEBHOOKS, { token: TOKEN });

      expect(answer.status).toBe(200);
      expect(answer.json.success).toBe(true);
      const masked = (secret: string) => `whsec_${'*'.repeat(secret.length - 'whsec_'.length)}`;
      expect(answer.json.data).toEqual({
        webhooks: [
          { ...first, secret: masked(first.secret) },
          { ...second, secret: masked(second.secret) },
        ],
      });
      // The emulator itself still knows the full secrets.
      expect(hop.webhooks().map((webhook) => webhook.secret)).toEqual([
        first.secret,
        second.secret,
      ]);
    });

    it('edits events alone, then the URL alone, answering with the secret masked', async () => {
      const webhook = await createWebhook('https://example.com/a');
      const path = `${WEBHOOKS}/${webhook.id}`;

      const eventsEdit = await call('PATCH', path, {
        token: TOKEN,
        body: { events: [MEMBER_CREATED, BUILD_UPDATED] },
      });
      expect(eventsEdit.status).toBe(200);
      expect(eventsEdit.json.success).toBe(true);
      expect(eventsEdit.json.data.webhook).toEqual({
        ...webhook,
        events: [MEMBER_CREATED, BUILD_UPDATED],
        secret: expect.stringMatching(/^whsec_\*{32,}$/),
      });

      const urlEdit = await call('PATCH', path, {
        token: TOKEN,
        body: { webhook_url: 'http://127.0.0.1:9/new' },
      });
      expect(urlEdit.status).toBe(200);
      expect(urlEdit.json.data.webhook).toMatchObject({
        webhook_url: 'http://127.0.0.1:9/new',
        events: [MEMBER_CREATED, BUILD_UPDATED],
      });
      expect(hop.webhooks()[0]).toEqual({
        ...webhook,
        webhook_url: 'http://127.0.0.1:9/new',
        events: [MEMBER_CREATED, BUILD_UPDATED],
      });
    });

    it('refuses an edit that changes nothing', async () => {
      const webhook = await createWebhook('https://example.com/a');
      const answer = await call('PATCH', `${WEBHOOKS}/${webhook.id}`, {
        token: TOKEN,
        body: { name: 'ignored' },
      });
      expect(expectError(answer, 400, 'validation_error')).toMatch(/webhook_url.*events/);
    });

    it('deletes a webhook with 204 and no body, after which it is gone', async () => {
      const webhook = await createWebhook('https://example.com/a');

      const answer = await call('DELETE', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN });

      expect(answer.status).toBe(204);
      expect(answer.text).toBe('');
      expect(answer.headers.get('content-type')).toBeNull();
      expect((await call('GET', WEBHOOKS, { token: TOKEN })).json.data.webhooks).toEqual([]);
      expect(hop.webhooks()).toEqual([]);
      const again = await call('DELETE', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN });
      expectError(again, 404, 'not_found');
    });

    it('regenerates the secret in full and signs later deliveries with the new one only', async () => {
      const webhook = await createWebhook(receiver.url('/ok'));

      const answer = await call('POST', `${WEBHOOKS}/${webhook.id}/regenerate`, { token: TOKEN });

      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        success: true,
        data: { secret: expect.stringMatching(SECRET_FORMAT) },
      });
      const fresh: string = answer.json.data.secret;
      expect(fresh).not.toBe(webhook.secret);
      expect(hop.webhooks()[0]!.secret).toBe(fresh);

      await hop.emit(BUILD_UPDATED);
      const [delivery] = receiver.received;
      const signature = delivery!.headers['x-hop-hooks-signature'] as string;
      expect(verifyHopSignature(delivery!.body, signature, fresh)).toBe(true);
      expect(verifyHopSignature(delivery!.body, signature, webhook.secret)).toBe(false);
    });
  });

  describe('tokens and projects', () => {
    it('refuses a request without Authorization with 401', async () => {
      const message = expectError(await call('GET', WEBHOOKS), 401, 'unauthorized');
      expect(message).toMatch(/missing/);
    });

    it.each([
      ['a token with "Bearer" before it', `Bearer ${TOKEN}`, /Bearer/],
      ['an unknown prefix', 'sk_live_0123456789', /not a Hop token/],
      ['a prefix with nothing after it', 'ptk_', /not a Hop token/],
      ['a forbidden character', 'pat_abc.def', /not a Hop token/],
    ])('refuses %s with 401', async (_case, token, reason) => {
      const answer = await call('GET', WEBHOOKS, { token });
      expect(expectError(answer, 401, 'unauthorized')).toMatch(reason);
    });

    it('accepts only the tokens it was started with, when given', async () => {
      await hop.close();
      hop = await HopApiEmulator.start({ tokens: [TOKEN] });

      expect((await call('GET', WEBHOOKS, { token: TOKEN })).status).toBe(200);
      const other = await call('GET', WEBHOOKS, { token: OTHER_TOKEN });
      expect(expectError(other, 401, 'unauthorized')).toMatch(/not accepted/);
    });

    it('refuses @this with a personal access or bearer token: a project id is needed', async () => {
      for (const token of [PAT, 'bearer_some-session']) {
        const answer = await call('GET', WEBHOOKS, { token });
        expect(expectError(answer, 400, 'invalid_project')).toMatch(/project id/);
      }
    });

    it('maps the same project token to the same project on every call', async () => {
      const first = await createWebhook('https://example.com/a');
      const second = await createWebhook('https://example.com/b');

      expect(second.project_id).toBe(first.project_id);
      const listed = await call('GET', WEBHOOKS, { token: TOKEN });
      expect(listed.json.data.webhooks.map((webhook: HopEmulatorWebhook) => webhook.id)).toEqual([
        first.id,
        second.id,
      ]);
    });

    it('keeps the webhooks of two project tokens apart', async () => {
      const mine = await createWebhook('https://example.com/mine');
      const theirs = await createWebhook('https://example.com/theirs', undefined, OTHER_TOKEN);

      expect(theirs.project_id).not.toBe(mine.project_id);
      const myList = (await call('GET', WEBHOOKS, { token: TOKEN })).json.data.webhooks;
      const theirList = (await call('GET', WEBHOOKS, { token: OTHER_TOKEN })).json.data.webhooks;
      expect(myList.map((webhook: HopEmulatorWebhook) => webhook.id)).toEqual([mine.id]);
      expect(theirList.map((webhook: HopEmulatorWebhook) => webhook.id)).toEqual([theirs.id]);
      expect(hop.webhooks(mine.project_id)).toEqual([mine]);
    });

    it('lets a project token name its own project id, and answers 403 for another one', async () => {
      const mine = await createWebhook('https://example.com/mine');
      const theirs = await createWebhook('https://example.com/theirs', undefined, OTHER_TOKEN);

      const own = await call('GET', `/v1/projects/${mine.project_id}/webhooks`, { token: TOKEN });
      expect(own.status).toBe(200);
      expect(own.json.data.webhooks).toHaveLength(1);

      const foreign = await call('GET', `/v1/projects/${theirs.project_id}/webhooks`, {
        token: TOKEN,
      });
      expectError(foreign, 403, 'forbidden');
    });

    it('lets a personal access token work on a project named in the path', async () => {
      const created = await createWebhook(
        'https://example.com/pat',
        undefined,
        PAT,
        '/v1/projects/project_MTIzNDU2Nzg5MDEyMzQ1Njc4/webhooks',
      );
      expect(created.project_id).toBe('project_MTIzNDU2Nzg5MDEyMzQ1Njc4');

      const notAProject = await call('GET', '/v1/projects/deployment_abc/webhooks', { token: PAT });
      expectError(notAProject, 400, 'invalid_project');
    });
  });

  describe('validation', () => {
    it.each([
      ['a body that is not JSON', '{"webhook_url": ', /not valid JSON/],
      ['a JSON array', '[]', /must be a JSON object/],
      ['a relative URL', { webhook_url: '/hop/webhook', events: [BUILD_UPDATED] }, /webhook_url/],
      [
        'a non-http URL',
        { webhook_url: 'ftp://example.com/hook', events: [BUILD_UPDATED] },
        /webhook_url/,
      ],
      ['no events', { webhook_url: 'https://example.com/a', events: [] }, /`events`/],
      [
        'events not a list',
        { webhook_url: 'https://example.com/a', events: BUILD_UPDATED },
        /`events`/,
      ],
      ['non-string events', { webhook_url: 'https://example.com/a', events: [1] }, /`events`/],
    ])('refuses %s with 400', async (_case, body, reason) => {
      const answer = await call('POST', WEBHOOKS, { token: TOKEN, body });
      expect(expectError(answer, 400, 'validation_error')).toMatch(reason);
      expect(hop.webhooks()).toEqual([]);
    });

    it('names every unknown event name', async () => {
      const answer = await call('POST', WEBHOOKS, {
        token: TOKEN,
        body: {
          webhook_url: 'https://example.com/a',
          events: [BUILD_UPDATED, 'ignite.deployment.exploded', 'project.renamed'],
        },
      });
      const message = expectError(answer, 400, 'validation_error');
      expect(message).toContain('ignite.deployment.exploded');
      expect(message).toContain('project.renamed');
      expect(message).not.toContain(BUILD_UPDATED);
    });

    it('refuses an edit with an invalid URL and keeps the webhook as it was', async () => {
      const webhook = await createWebhook('https://example.com/a');
      const answer = await call('PATCH', `${WEBHOOKS}/${webhook.id}`, {
        token: TOKEN,
        body: { webhook_url: 'not a url' },
      });
      expect(expectError(answer, 400, 'validation_error')).toMatch(/webhook_url/);
      expect(hop.webhooks()).toEqual([webhook]);
    });

    it('keeps an event listed twice once', async () => {
      const webhook = await createWebhook('https://example.com/a', [
        BUILD_UPDATED,
        MEMBER_CREATED,
        BUILD_UPDATED,
      ]);
      expect(webhook.events).toEqual([BUILD_UPDATED, MEMBER_CREATED]);
    });

    it('ignores unknown fields', async () => {
      const answer = await call('POST', WEBHOOKS, {
        token: TOKEN,
        body: { webhook_url: 'https://example.com/a', events: [BUILD_UPDATED], colour: 'blue' },
      });
      expect(answer.status).toBe(201);
      expect(answer.json.data.webhook).not.toHaveProperty('colour');
    });
  });

  describe('unknown webhooks, routes and methods', () => {
    it('answers 404 for an unknown webhook id and for one of another project', async () => {
      const theirs = await createWebhook('https://example.com/theirs', undefined, OTHER_TOKEN);

      for (const id of ['webhook_MTExMTExMTExMTExMTExMTEx', theirs.id]) {
        const edit = await call('PATCH', `${WEBHOOKS}/${id}`, {
          token: TOKEN,
          body: { events: [MEMBER_CREATED] },
        });
        expect(expectError(edit, 404, 'not_found')).toContain(id);
        expectError(await call('DELETE', `${WEBHOOKS}/${id}`, { token: TOKEN }), 404, 'not_found');
        expectError(
          await call('POST', `${WEBHOOKS}/${id}/regenerate`, { token: TOKEN }),
          404,
          'not_found',
        );
      }
      expect(hop.webhooks()).toEqual([theirs]);
    });

    it('answers 404 for an unknown route', async () => {
      for (const path of ['/v1/projects/@this/deployments', '/v2/projects/@this/webhooks', '/']) {
        expectError(await call('GET', path, { token: TOKEN }), 404, 'route_not_found');
      }
    });

    it('answers 405 with Allow for a wrong method on a known route', async () => {
      const put = await call('PUT', WEBHOOKS, { token: TOKEN, body: {} });
      expectError(put, 405, 'method_not_allowed');
      expect(put.headers.get('allow')).toBe('GET, POST');

      const get = await call('GET', `${WEBHOOKS}/webhook_x/regenerate`, { token: TOKEN });
      expectError(get, 405, 'method_not_allowed');
      expect(get.headers.get('allow')).toBe('POST');
    });
  });

  describe('emit', () => {
    it('posts one event, signed per webhook, to every subscribed webhook and reports each', async () => {
      const first = await createWebhook(receiver.url('/ok/first'), [BUILD_UPDATED]);
      const second = await createWebhook(
        receiver.url('/broken/second'),
        [MEMBER_CREATED, BUILD_UPDATED],
        OTHER_TOKEN,
      );
      await createWebhook(receiver.url('/ok/unsubscribed'), [MEMBER_CREATED]);

      const result = await hop.emit(BUILD_UPDATED);

      expect(result.event).toEqual({
        id: expect.stringMatching(/^event_/),
        event: BUILD_UPDATED,
        occurred_at: expect.any(String),
        data: hopEventExampleData(BUILD_UPDATED),
      });
      expect(result.deliveries).toEqual([
        {
          webhookId: first.id,
          projectId: first.project_id,
          url: receiver.url('/ok/first'),
          status: 204,
        },
        {
          webhookId: second.id,
          projectId: second.project_id,
          url: receiver.url('/broken/second'),
          status: 500,
        },
      ]);
      expect(receiver.received.map((delivery) => delivery.path).sort()).toEqual([
        '/broken/second',
        '/ok/first',
      ]);
      for (const webhook of [first, second]) {
        const delivery = receiver.received.find((entry) =>
          webhook.webhook_url.endsWith(entry.path),
        )!;
        const signature = delivery.headers['x-hop-hooks-signature'] as string;
        expect(delivery.headers['content-type']).toBe('application/json');
        expect(signature).toMatch(/^[0-9A-F]{64}$/);
        expect(verifyHopSignature(delivery.body, signature, webhook.secret)).toBe(true);
        const other = webhook === first ? second : first;
        expect(verifyHopSignature(delivery.body, signature, other.secret)).toBe(false);
        // The exact envelope, in Hop's field order, with this webhook's ids.
        expect(delivery.body.toString('utf8')).toBe(
          JSON.stringify({
            id: result.event.id,
            event: BUILD_UPDATED,
            webhook_id: webhook.id,
            project_id: webhook.project_id,
            occurred_at: result.event.occurred_at,
            data: result.event.data,
          }),
        );
      }
    });

    it('sends the given data, only to the given project’s webhooks', async () => {
      const mine = await createWebhook(receiver.url('/ok/mine'));
      await createWebhook(receiver.url('/ok/theirs'), undefined, OTHER_TOKEN);
      const data = { ...hopEventExampleData(BUILD_UPDATED), state: 'failed' as const };

      const result = await hop.emit(BUILD_UPDATED, data, { projectId: mine.project_id });

      expect(result.deliveries.map((delivery) => delivery.webhookId)).toEqual([mine.id]);
      expect(receiver.received).toHaveLength(1);
      expect(JSON.parse(receiver.received[0]!.body.toString('utf8')).data).toEqual(data);
    });

    it('stops delivering to a deleted webhook at once', async () => {
      const webhook = await createWebhook(receiver.url('/ok/deleted'));
      await call('DELETE', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN });

      expect((await hop.emit(BUILD_UPDATED)).deliveries).toEqual([]);
      expect(receiver.received).toEqual([]);
    });

    it('reports an error, and no status, when the webhook’s port is closed', async () => {
      const url = await closedPortUrl();
      const webhook = await createWebhook(url);

      const { deliveries } = await hop.emit(BUILD_UPDATED);

      expect(deliveries).toEqual([
        {
          webhookId: webhook.id,
          projectId: webhook.project_id,
          url,
          error: expect.stringMatching(/ECONNREFUSED/),
        },
      ]);
    });

    it('gives up on a receiver that does not answer within deliveryTimeoutMs', async () => {
      await hop.close();
      hop = await HopApiEmulator.start({ deliveryTimeoutMs: 200 });
      await createWebhook(receiver.url('/hang'));
      await createWebhook(receiver.url('/ok/fast'));
      const started = performance.now();

      const { deliveries } = await hop.emit(BUILD_UPDATED);

      expect(performance.now() - started).toBeLessThan(5_000);
      expect(deliveries.map(({ status, error }) => ({ status, error }))).toEqual([
        { status: undefined, error: 'no answer within 200 ms' },
        { status: 204, error: undefined },
      ]);
    });

    it('refuses an event name Hop does not send', async () => {
      await expect(hop.emit('ignite.deployment.exploded')).rejects.toThrow(TypeError);
      await expect(hop.emit('ignite.deployment.exploded')).rejects.toThrow(/HOP_EVENTS/);
    });
  });

  describe('emulator controls over HTTP', () => {
    it('emits through POST /_emulator/emit without a token', async () => {
      const webhook = await createWebhook(receiver.url('/ok/http'));

      const answer = await call('POST', '/_emulator/emit', { body: { event: BUILD_UPDATED } });

      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        success: true,
        data: {
          event: expect.objectContaining({
            id: expect.stringMatching(/^event_/),
            event: BUILD_UPDATED,
          }),
          deliveries: [
            {
              webhookId: webhook.id,
              projectId: webhook.project_id,
              url: receiver.url('/ok/http'),
              status: 204,
            },
          ],
        },
      });
      expect(receiver.received).toHaveLength(1);
      expect(hop.requests.map((request) => request.path)).not.toContain('/_emulator/emit');
    });

    it('passes data and project_id through /_emulator/emit, and refuses unknown events', async () => {
      const mine = await createWebhook(receiver.url('/ok/mine'));
      await createWebhook(receiver.url('/ok/theirs'), undefined, OTHER_TOKEN);

      const answer = await call('POST', '/_emulator/emit', {
        body: { event: BUILD_UPDATED, data: { id: 'build_custom' }, project_id: mine.project_id },
      });
      expect(answer.json.data.deliveries).toHaveLength(1);
      expect(JSON.parse(receiver.received[0]!.body.toString('utf8')).data).toEqual({
        id: 'build_custom',
      });

      const unknown = await call('POST', '/_emulator/emit', { body: { event: 'nope' } });
      expectError(unknown, 400, 'validation_error');
    });

    it('lists every project’s webhooks with full secrets and resets them', async () => {
      const mine = await createWebhook('https://example.com/mine');
      const theirs = await createWebhook('https://example.com/theirs', undefined, OTHER_TOKEN);

      const listed = await call('GET', '/_emulator/webhooks');
      expect(listed.status).toBe(200);
      expect(listed.json).toEqual({ success: true, data: { webhooks: [mine, theirs] } });

      const reset = await call('POST', '/_emulator/reset');
      expect(reset.status).toBe(204);
      expect(hop.webhooks()).toEqual([]);
      expect(hop.requests).toEqual([]);
      expectError(await call('GET', '/_emulator/reset'), 405, 'method_not_allowed');
      expectError(await call('GET', '/_emulator/nothing'), 404, 'route_not_found');
    });
  });

  describe('fault injection', () => {
    it('fails the next API requests with the status, envelope and Retry-After asked for', async () => {
      hop.failNext(2, 503, { retryAfterSeconds: 3 });

      // Controls are not API requests: they neither fail nor use up a failure.
      expect((await call('GET', '/_emulator/webhooks')).status).toBe(200);
      for (let attempt = 0; attempt < 2; attempt++) {
        const answer = await call('GET', WEBHOOKS, { token: TOKEN });
        expectError(answer, 503, 'service_unavailable');
        expect(answer.headers.get('retry-after')).toBe('3');
      }
      const third = await call('GET', WEBHOOKS, { token: TOKEN });
      expect(third.status).toBe(200);
      expect(third.headers.get('retry-after')).toBeNull();
    });

    it('queues failures in order, with custom code and message, before validating anything', async () => {
      hop.failNext(1, 429, { code: 'slow_down', message: 'Too many requests' });
      hop.failNext(1, 500);

      const first = await call('POST', WEBHOOKS, { body: 'not even json' });
      expect(first.json.error).toEqual({ code: 'slow_down', message: 'Too many requests' });
      expect(first.status).toBe(429);
      expect(first.headers.get('retry-after')).toBeNull();
      expectError(await call('GET', WEBHOOKS, { token: TOKEN }), 500, 'internal_server_error');
      expect((await call('GET', WEBHOOKS, { token: TOKEN })).status).toBe(200);
    });

    it('delays the next API answers by the time asked for, then handles them', async () => {
      hop.delayNext(1, 300);
      const webhook = { webhook_url: 'https://example.com/late', events: [BUILD_UPDATED] };

      const started = performance.now();
      const delayed = await call('POST', WEBHOOKS, { token: TOKEN, body: webhook });
      const delayedMs = performance.now() - started;

      expect(delayed.status).toBe(201);
      // Node timers may fire up to a millisecond early.
      expect(delayedMs).toBeGreaterThanOrEqual(299);
      const next = performance.now();
      expect((await call('GET', WEBHOOKS, { token: TOKEN })).status).toBe(200);
      expect(performance.now() - next).toBeLessThan(300);
    });

    it('refuses fault arguments that cannot be meant', () => {
      expect(() => hop.failNext(0, 503)).toThrow(RangeError);
      expect(() => hop.failNext(1, 200)).toThrow(/400-599/);
      expect(() => hop.failNext(1, 429, { retryAfterSeconds: 1.5 })).toThrow(/retryAfterSeconds/);
      expect(() => hop.delayNext(1, -1)).toThrow(RangeError);
      expect(() => hop.delayNext(1, 3e9)).toThrow(RangeError);
    });
  });

  describe('request log and secrecy', () => {
    it('logs each API request with method, path, status and whether a token was sent', async () => {
      const webhook = await createWebhook('https://example.com/a');
      await call('GET', `${WEBHOOKS}?page=2`);
      hop.failNext(1, 502);
      await call('DELETE', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN });
      await call('DELETE', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN });

      expect(hop.requests).toEqual([
        { method: 'POST', path: WEBHOOKS, status: 201, authorization: true },
        { method: 'GET', path: WEBHOOKS, status: 401, authorization: false },
        { method: 'DELETE', path: `${WEBHOOKS}/${webhook.id}`, status: 502, authorization: true },
        { method: 'DELETE', path: `${WEBHOOKS}/${webhook.id}`, status: 204, authorization: true },
      ]);
      hop.reset();
      expect(hop.requests).toEqual([]);
    });

    it('never sends a token back, in any answer or log entry', async () => {
      await hop.close();
      hop = await HopApiEmulator.start({ tokens: [TOKEN, PAT] });
      const webhook = await createWebhook('https://example.com/a');
      const foreign = '/v1/projects/project_MTIzNDU2Nzg5MDEyMzQ1Njc4/webhooks';

      await call('GET', WEBHOOKS, { token: TOKEN });
      await call('GET', WEBHOOKS, { token: OTHER_TOKEN }); // not in the list
      await call('GET', WEBHOOKS, { token: PAT }); // @this with a PAT
      await call('GET', foreign, { token: TOKEN }); // another project
      await call('GET', WEBHOOKS, { token: `Bearer ${TOKEN}` });
      await call('GET', WEBHOOKS, { token: `${TOKEN}!` }); // malformed
      await call('PATCH', `${WEBHOOKS}/${webhook.id}`, { token: TOKEN, body: '[' });
      await call('PUT', WEBHOOKS, { token: TOKEN });
      await call('GET', '/_emulator/webhooks');

      expect(answers.length).toBeGreaterThanOrEqual(10);
      const everything = [...answers, JSON.stringify(hop.requests)].join('\n');
      for (const token of [TOKEN, OTHER_TOKEN, PAT]) {
        expect(everything).not.toContain(token);
        // Nor the part after the prefix, which would give the token away just as well.
        expect(everything).not.toContain(token.slice(4));
      }
    });
  });

  describe('lifecycle', () => {
    it('closes at once with a request in flight, and a second close is harmless', async () => {
      const emulator = await HopApiEmulator.start();
      emulator.delayNext(1, 10_000);
      const pending = fetch(`${emulator.url}${WEBHOOKS}`, { headers: { authorization: TOKEN } });
      const failed = expect(pending).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the request arrive
      const started = performance.now();

      await emulator.close();
      await emulator.close();

      // Far less than the 10 s the request was delayed by.
      expect(performance.now() - started).toBeLessThan(5_000);
      await failed;
      await expect(fetch(`${emulator.url}${WEBHOOKS}`)).rejects.toThrow();
    });

    it('refuses start options that cannot work, without repeating a token', async () => {
      await expect(HopApiEmulator.start({ tokens: [] })).rejects.toThrow(/non-empty/);
      const error = await HopApiEmulator.start({ tokens: [TOKEN, 'secret_value'] }).catch(
        (caught: Error) => caught,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/tokens\[1\]/);
      expect((error as Error).message).not.toContain('secret_value');
      await expect(HopApiEmulator.start({ port: 70_000 })).rejects.toThrow(RangeError);
      await expect(HopApiEmulator.start({ deliveryTimeoutMs: 0 })).rejects.toThrow(RangeError);
    });

    it('listens on 127.0.0.1 only, on the port asked for', async () => {
      const port = Number(new URL(hop.url).port);
      await hop.close();
      hop = await HopApiEmulator.start({ port });
      expect(hop.url).toBe(`http://127.0.0.1:${port}`);
      await expect(fetch(`http://[::1]:${port}${WEBHOOKS}`)).rejects.toThrow();
    });
  });
});
