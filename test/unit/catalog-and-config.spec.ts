import { describe, expect, it } from 'vitest';
import { VERSION_NEUTRAL } from '@nestjs/common';
import { constructHopEvent } from '../../lib/core/event.parser.js';
import { HOP_EVENTS, isHopEventName } from '../../lib/core/events.catalog.js';
import { HOP_SIGNATURE_HEADER, verifyHopSignature } from '../../lib/core/signature.js';
import { HopConfigurationError } from '../../lib/core/errors.js';
import { resolveHopWebhooksConfig } from '../../lib/nest/webhooks.config.js';
import { InMemoryHopEventStore } from '../../lib/stores/memory-event.store.js';
import { resolveHopWebhooksRoute } from '../../lib/nest/webhooks.route.js';
import type {
  HopWebhooksModuleOptions,
  HopWebhooksRouteVersion,
} from '../../lib/nest/webhooks-options.interface.js';
import { buildHopEvent, signHopDelivery } from '../../lib/testing/delivery.js';
import { HOP_EVENT_EXAMPLES, hopEventExampleData } from '../../lib/testing/event-examples.js';
import { DOCUMENTED_BODY } from './hop-docs-example.js';
import { thrownBy } from '../src/thrown-by.js';

const SECRET = 'whsec_Y2F0YWxvZy1hbmQtY29uZmlnLXNwZWM';

// The catalog as the reference lists it (Hop's docs plus the three SDK-only build events).
const REFERENCE_CATALOG: Record<string, string> = {
  'ignite.deployment.created': 'Deployment Created',
  'ignite.deployment.updated': 'Deployment Updated',
  'ignite.deployment.deleted': 'Deployment Deleted',
  'ignite.deployment.build.created': 'Build Created',
  'ignite.deployment.build.started': 'Build Started',
  'ignite.deployment.build.updated': 'Build Updated',
  'ignite.deployment.build.completed': 'Build Completed',
  'ignite.deployment.build.failed': 'Build Failed',
  'ignite.deployment.build.cancelled': 'Build Cancelled',
  'ignite.deployment.rollout.created': 'Rollout Created',
  'ignite.deployment.rollout.updated': 'Rollout Updated',
  'ignite.deployment.container.created': 'Container Created',
  'ignite.deployment.container.updated': 'Container Updated',
  'ignite.deployment.container.metrics_update': 'Container Metrics Update',
  'ignite.deployment.container.deleted': 'Container Deleted',
  'ignite.deployment.healthcheck.created': 'Healthcheck Created',
  'ignite.deployment.healthcheck.updated': 'Healthcheck Updated',
  'ignite.deployment.healthcheck.deleted': 'Healthcheck Deleted',
  'ignite.deployment.healthcheck.events.failed': 'Healthcheck Events Failed',
  'ignite.deployment.healthcheck.events.succeeded': 'Healthcheck Events Succeeded',
  'ignite.deployment.gateway.created': 'Gateway Created',
  'ignite.deployment.gateway.updated': 'Gateway Updated',
  'ignite.deployment.gateway.deleted': 'Gateway Deleted',
  'project.updated': 'Updated',
  'project.member.created': 'Member Created',
  'project.member.updated': 'Member Updated',
  'project.member.deleted': 'Member Deleted',
  'project.tokens.created': 'Token Created',
  'project.tokens.deleted': 'Token Deleted',
  'project.secrets.created': 'Secret Created',
  'project.secrets.updated': 'Secret Updated',
  'project.secrets.deleted': 'Secret Deleted',
  'project.finance.transaction': 'Finance Transaction',
};

const IDS: readonly string[] = HOP_EVENTS.map((event) => event.id);

describe('HOP_EVENTS', () => {
  it('has 33 entries with unique ids', () => {
    expect(HOP_EVENTS).toHaveLength(33);
    expect(new Set(IDS).size).toBe(33);
  });

  it('has 23 ignite events and 10 project events, each grouped by its first segment', () => {
    expect(HOP_EVENTS.filter((event) => event.group === 'ignite')).toHaveLength(23);
    expect(HOP_EVENTS.filter((event) => event.group === 'project')).toHaveLength(10);
    for (const event of HOP_EVENTS) {
      expect(event.id.split('.')[0], event.id).toBe(event.group);
    }
  });

  it('includes the three build events only the SDK knows', () => {
    expect(IDS).toEqual(
      expect.arrayContaining([
        'ignite.deployment.build.completed',
        'ignite.deployment.build.failed',
        'ignite.deployment.build.cancelled',
      ]),
    );
  });

  it('has exactly the ids and display names of the reference catalog', () => {
    expect(Object.fromEntries(HOP_EVENTS.map((event) => [event.id, event.name]))).toEqual(
      REFERENCE_CATALOG,
    );
  });
});

describe('isHopEventName', () => {
  it('is true for every catalog id', () => {
    expect(IDS.filter((id) => !isHopEventName(id))).toEqual([]);
  });

  it.each([
    'ignite.deployment.volume.created',
    'ignite.deployment',
    'IGNITE.DEPLOYMENT.CREATED',
    'ignite.deployment.created ',
    'ignite.*',
    '',
    'constructor',
    'toString',
  ])('is false for %j', (name) => {
    expect(isHopEventName(name)).toBe(false);
  });
});

describe('HOP_EVENT_EXAMPLES and hopEventExampleData', () => {
  it('has exactly one example per catalog id', () => {
    expect(Object.keys(HOP_EVENT_EXAMPLES).toSorted()).toEqual(IDS.toSorted());
  });

  it('gives every example as a JSON object that survives a round trip unchanged', () => {
    for (const id of HOP_EVENTS.map((event) => event.id)) {
      const example: unknown = HOP_EVENT_EXAMPLES[id];
      expect(typeof example === 'object' && example !== null && !Array.isArray(example), id).toBe(
        true,
      );
      expect(JSON.parse(JSON.stringify(example)), id).toStrictEqual(example);
    }
  });

  it('returns a deep copy equal to the example', () => {
    for (const { id } of HOP_EVENTS) {
      const copy = hopEventExampleData(id);
      expect(copy, id).toStrictEqual(HOP_EVENT_EXAMPLES[id]);
      expect(copy, id).not.toBe(HOP_EVENT_EXAMPLES[id]);
    }
  });

  it('returns a copy whose nested objects can be mutated without touching the examples', () => {
    const copy = hopEventExampleData('ignite.deployment.updated');
    const before = structuredClone(HOP_EVENT_EXAMPLES['ignite.deployment.updated']);

    copy.config.env.NODE_ENV = 'mutated';
    copy.active_build!.metadata!.branch = 'mutated';
    copy.active_rollout!.state = 'failed';

    expect(HOP_EVENT_EXAMPLES['ignite.deployment.updated']).toStrictEqual(before);
    expect(hopEventExampleData('ignite.deployment.updated').config.env.NODE_ENV).toBe('production');
  });

  it('has the metrics_update example of the docs, percentages as strings', () => {
    const documented = JSON.parse(DOCUMENTED_BODY) as { data: unknown };

    expect(HOP_EVENT_EXAMPLES['ignite.deployment.container.metrics_update']).toStrictEqual(
      documented.data,
    );
  });

  it('gives each build event an example in the state its name says', () => {
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.build.completed'].state).toBe('succeeded');
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.build.failed'].state).toBe('failed');
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.build.cancelled'].state).toBe('cancelled');
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.healthcheck.events.failed'].state).toBe('failed');
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.healthcheck.events.succeeded'].state).toBe(
      'succeeded',
    );
  });
});

describe('buildHopEvent', () => {
  it('builds the envelope Hop sends, with the example data of the event', () => {
    const event = buildHopEvent('ignite.deployment.build.updated');

    expect(Object.keys(event).toSorted()).toEqual(
      ['data', 'event', 'id', 'occurred_at', 'project_id', 'webhook_id'].toSorted(),
    );
    expect(event.event).toBe('ignite.deployment.build.updated');
    expect(event.webhook_id).toMatch(/^webhook_\S+$/);
    expect(event.project_id).toMatch(/^project_\S+$/);
    expect(event.data).toStrictEqual(HOP_EVENT_EXAMPLES['ignite.deployment.build.updated']);
  });

  it('gives each event a fresh event_ id', () => {
    const first = buildHopEvent('project.updated');
    const second = buildHopEvent('project.updated');

    expect(first.id).toMatch(/^event_[A-Za-z0-9+/]+=*$/);
    expect(second.id).toMatch(/^event_[A-Za-z0-9+/]+=*$/);
    expect(first.id).not.toBe(second.id);
  });

  it('stamps occurred_at with the current time as ISO-8601', () => {
    const before = Date.now();
    const event = buildHopEvent('project.updated');
    const after = Date.now();

    expect(new Date(event.occurred_at).toISOString()).toBe(event.occurred_at);
    expect(Date.parse(event.occurred_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(event.occurred_at)).toBeLessThanOrEqual(after);
  });

  it('gives each event its own copy of the example data', () => {
    const event = buildHopEvent('ignite.deployment.build.updated');

    expect(event.data).not.toBe(HOP_EVENT_EXAMPLES['ignite.deployment.build.updated']);
    event.data.state = 'failed';
    expect(HOP_EVENT_EXAMPLES['ignite.deployment.build.updated'].state).not.toBe('failed');
  });

  it('uses every override given', () => {
    const data = { ...hopEventExampleData('ignite.deployment.build.failed'), id: 'build_custom' };

    const event = buildHopEvent('ignite.deployment.build.failed', {
      id: 'event_custom',
      webhook_id: 'webhook_custom',
      project_id: 'project_custom',
      occurred_at: '2026-01-02T03:04:05.006Z',
      data,
    });

    expect(event).toStrictEqual({
      id: 'event_custom',
      event: 'ignite.deployment.build.failed',
      webhook_id: 'webhook_custom',
      project_id: 'project_custom',
      occurred_at: '2026-01-02T03:04:05.006Z',
      data,
    });
  });

  it('keeps an explicit data: null instead of the example', () => {
    expect(buildHopEvent('some.future.event', { data: null }).data).toBeNull();
  });

  it('gives an event outside the catalog empty data', () => {
    const event = buildHopEvent('some.future.event');

    expect(event.event).toBe('some.future.event');
    expect(event.data).toStrictEqual({});
  });

  it('builds every catalog event so that constructHopEvent accepts it back unchanged', () => {
    for (const { id } of HOP_EVENTS) {
      const event = buildHopEvent(id);
      const { body, headers } = signHopDelivery(event, SECRET);
      expect(constructHopEvent(body, headers[HOP_SIGNATURE_HEADER], SECRET), id).toStrictEqual(
        event,
      );
    }
  });
});

describe('signHopDelivery', () => {
  it('serialises the event and signs the exact bytes, verifiable with verifyHopSignature', () => {
    const event = buildHopEvent('ignite.deployment.container.metrics_update');

    const { body, headers } = signHopDelivery(event, SECRET);

    expect(body).toBe(JSON.stringify(event));
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-hop-hooks-signature']).toMatch(/^[0-9A-F]{64}$/);
    expect(verifyHopSignature(body, headers['x-hop-hooks-signature'], SECRET)).toBe(true);
    expect(verifyHopSignature(body, headers['x-hop-hooks-signature'], `${SECRET}x`)).toBe(false);
  });

  it('signs a string event as it is, without re-serialising it', () => {
    const { body, headers } = signHopDelivery(DOCUMENTED_BODY, SECRET);

    expect(body).toBe(DOCUMENTED_BODY);
    expect(verifyHopSignature(DOCUMENTED_BODY, headers[HOP_SIGNATURE_HEADER], SECRET)).toBe(true);
  });

  it('refuses a malformed secret like signHopPayload', () => {
    expect(() => signHopDelivery({}, 'whsec_****')).toThrow(HopConfigurationError);
  });
});

describe('resolveHopWebhooksConfig', () => {
  it("defaults eventPrefix to 'hop' and logging to 'startup', and lists the secret", () => {
    expect(resolveHopWebhooksConfig({ secret: SECRET })).toMatchObject({
      secrets: [SECRET],
      eventPrefix: 'hop',
      logging: 'startup',
    });
  });

  it('fills in the defaults the README lists', () => {
    const config = resolveHopWebhooksConfig({ secret: SECRET });
    expect(config).toMatchObject({
      receive: true,
      leaseMs: 300_000,
      storeTimeoutMs: 2_000,
      maxEventAgeMs: null,
      clockSkewMs: 60_000,
      handlerTimeoutMs: null,
      bodyLimit: 1_048_576,
      api: null,
      queue: null,
    });
    expect(config.store).toBeInstanceOf(InMemoryHopEventStore);
    expect(config.store).toMatchObject({ capacity: 10_000, ttlMs: 86_400_000 });
  });

  it('fills in the api defaults the README lists: Hop’s own API, 10 s per request, 3 retries', () => {
    expect(resolveHopWebhooksConfig({ secret: SECRET, api: { token: 'ptk_test' } }).api).toEqual({
      token: 'ptk_test',
      project: '@this',
      baseUrl: 'https://api.hop.io',
      timeoutMs: 10_000,
      maxRetries: 3,
    });
  });

  it('keeps the options given', () => {
    expect(
      resolveHopWebhooksConfig({
        secret: [SECRET, 'whsec_bmV4dA'],
        eventPrefix: 'webhooks.hop',
        logging: 'deliveries',
      }),
    ).toMatchObject({
      secrets: [SECRET, 'whsec_bmV4dA'],
      eventPrefix: 'webhooks.hop',
      logging: 'deliveries',
    });
  });

  it('keeps logging: false rather than replacing it with the default', () => {
    expect(resolveHopWebhooksConfig({ secret: SECRET, logging: false }).logging).toBe(false);
  });

  it.each([
    ['no options', undefined, /options are missing/],
    ['null options', null, /options are missing/],
    ['a missing secret', {}, /`secret` is missing/],
    ['an empty secret', { secret: '' }, /`secret` is missing/],
    ['a non-string secret', { secret: 42 }, /`secret` must be a string, got number/],
    [
      'a secret with a trailing newline',
      { secret: `${SECRET}\n` },
      /`secret` has leading or trailing whitespace/,
    ],
    ['a masked secret', { secret: 'whsec_Y2F0****' }, /`secret` is masked with '\*'/],
    ['an empty secret list', { secret: [] }, /`secret` is an empty array/],
    [
      'a bad entry in the secret list',
      { secret: [SECRET, ' x'] },
      /`secret\[1\]` has leading or trailing whitespace/,
    ],
    ['an empty eventPrefix', { secret: SECRET, eventPrefix: '' }, /`eventPrefix` must be/],
    ['a wildcard eventPrefix', { secret: SECRET, eventPrefix: 'hop.*' }, /`eventPrefix` must be/],
    [
      'an eventPrefix ending in a dot',
      { secret: SECRET, eventPrefix: 'hop.' },
      /`eventPrefix` must be/,
    ],
    [
      'an eventPrefix with a space',
      { secret: SECRET, eventPrefix: 'my hop' },
      /`eventPrefix` must be/,
    ],
    ['a non-string eventPrefix', { secret: SECRET, eventPrefix: 7 }, /`eventPrefix` must be/],
    [
      'an unknown logging value',
      { secret: SECRET, logging: 'verbose' },
      /`logging` must be 'startup', 'deliveries' or false, got "verbose"/,
    ],
    ['logging: true', { secret: SECRET, logging: true }, /`logging` must be .* got true/],
  ])('throws HopConfigurationError naming the option for %s', (_case, options, message) => {
    const error = thrownBy(() =>
      resolveHopWebhooksConfig(options as unknown as HopWebhooksModuleOptions),
    );

    expect(error).toBeInstanceOf(HopConfigurationError);
    expect(error.message).toMatch(/^HopWebhooksModule: /);
    expect(error.message).toMatch(message);
  });

  it('does not repeat the secret in its error message', () => {
    const error = thrownBy(() => resolveHopWebhooksConfig({ secret: `${SECRET} ` }));

    expect(error.message).not.toContain(SECRET);
  });
});

describe('resolveHopWebhooksRoute', () => {
  it("defaults the path to 'hop/webhook', the version to neutral and the decorators to none", () => {
    expect(resolveHopWebhooksRoute({})).toStrictEqual({
      path: 'hop/webhook',
      version: VERSION_NEUTRAL,
      decorators: [],
    });
  });

  it.each<[HopWebhooksRouteVersion]>([['2'], [['1', '2']], [[VERSION_NEUTRAL, '2']]])(
    'keeps the version %j',
    (version) => {
      expect(resolveHopWebhooksRoute({ version }).version).toEqual(version);
    },
  );

  it.each([[''], [[]], [['1', '']], [2], [Symbol('v')]])(
    'refuses the version %j, naming the option',
    (version) => {
      expect(thrownBy(() => resolveHopWebhooksRoute({ version: version as never }))).toMatchObject({
        name: 'HopConfigurationError',
        message: expect.stringContaining('`version` must be a version'),
      });
    },
  );

  it.each([
    ['/hooks/hop', 'hooks/hop'],
    ['hooks/hop/', 'hooks/hop'],
    ['//hooks/hop//', 'hooks/hop'],
    ['hooks', 'hooks'],
    ['/', ''],
  ])('trims leading and trailing slashes: %j becomes %j', (path, expected) => {
    expect(resolveHopWebhooksRoute({ path }).path).toBe(expected);
  });

  it('keeps the slashes inside the path', () => {
    expect(resolveHopWebhooksRoute({ path: '/api/v1/hop/webhook/' }).path).toBe(
      'api/v1/hop/webhook',
    );
  });

  it('passes the decorators through', () => {
    const Public: ClassDecorator = () => undefined;

    expect(resolveHopWebhooksRoute({ decorators: [Public] }).decorators).toEqual([Public]);
  });

  it.each([
    ['a non-string path', { path: 42 }, /`path` must be a string, got number/],
    [
      'decorators that are not an array',
      { decorators: () => undefined },
      /`decorators` must be an array/,
    ],
    [
      'decorators holding a non-function',
      { decorators: ['Public'] },
      /`decorators` must be an array/,
    ],
  ])('throws HopConfigurationError naming the option for %s', (_case, extras, message) => {
    const error = thrownBy(() => resolveHopWebhooksRoute(extras as never));

    expect(error).toBeInstanceOf(HopConfigurationError);
    expect(error.message).toMatch(/^HopWebhooksModule: /);
    expect(error.message).toMatch(message);
  });
});
