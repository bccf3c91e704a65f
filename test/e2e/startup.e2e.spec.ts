import { Injectable, Module, Scope, SetMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import {
  HopConfigurationError,
  HopWebhooksModule,
  HopWebhooksService,
  InMemoryHopEventStore,
  OnHopEvent,
  RedisHopEventStore,
} from '../../lib/index.js';
import { ADAPTERS, startTestApp, startupError } from '../src/test-app.js';

const SECRET = 'whsec_startup-secret';

@Injectable({ scope: Scope.REQUEST })
class RequestScopedHandlers {
  @OnHopEvent('project.updated')
  onUpdated(): void {}
}

@Injectable()
class FutureEventHandlers {
  @OnHopEvent('ignite.deployment.exploded' as never)
  onFuture(): void {}

  @OnHopEvent('project.nothing.**' as never)
  onNothing(): void {}
}

describe.each(ADAPTERS)('startup checks on %s', (adapter) => {
  it.each([
    [
      'an unset secret',
      () => HopWebhooksModule.forRoot(process.env.HOP_SECRET_THAT_IS_NOT_SET as string),
      '`secret` is missing',
    ],
    ['an empty secret', () => HopWebhooksModule.forRoot(''), '`secret` is missing'],
    ['an empty list of secrets', () => HopWebhooksModule.forRoot([]), '`secret` is an empty array'],
    [
      'a non-string secret',
      () => HopWebhooksModule.forRoot({ secret: 42 as never }),
      '`secret` must be a string, got number',
    ],
    [
      'a secret with a trailing newline',
      () => HopWebhooksModule.forRoot(`${SECRET}\n`),
      'leading or trailing whitespace',
    ],
    [
      'a masked secret',
      () => HopWebhooksModule.forRoot([SECRET, 'whsec_****abcd']),
      '`secret[1]` is masked',
    ],
    [
      'an unset secret in the options, beside `decorators`',
      () =>
        HopWebhooksModule.forRoot({
          secret: process.env.HOP_SECRET_THAT_IS_NOT_SET,
          decorators: [SetMetadata('isPublic', true)],
        }),
      '`secret` is missing',
    ],
    [
      'a factory that returns no secret',
      () =>
        HopWebhooksModule.forRootAsync({
          useFactory: () => ({ secret: process.env.HOP_SECRET_THAT_IS_NOT_SET }),
        }),
      '`secret` is missing',
    ],
    [
      'a bad eventPrefix',
      () => HopWebhooksModule.forRoot({ secret: SECRET, eventPrefix: 'hop.*' }),
      '`eventPrefix` must be',
    ],
    [
      'a store timeout of zero',
      () => HopWebhooksModule.forRoot({ secret: SECRET, idempotency: { storeTimeoutMs: 0 } }),
      '`idempotency.storeTimeoutMs` must be a positive number, got 0',
    ],
    [
      'a misspelt option',
      () => HopWebhooksModule.forRoot({ secret: SECRET, handlerTimeout: 5 } as never),
      'unknown option `handlerTimeout`',
    ],
    [
      'a path returned by the async factory',
      () =>
        HopWebhooksModule.forRootAsync({
          useFactory: () => ({ secret: SECRET, path: 'hooks' }) as never,
        }),
      '`path` shapes the module, so in forRootAsync it stands beside useFactory',
    ],
    [
      'a handler timeout no Node timer can wait',
      () => HopWebhooksModule.forRoot({ secret: SECRET, handlerTimeoutMs: 3e9 }),
      '`handlerTimeoutMs` is longer than a Node timer can wait',
    ],
    [
      'an API timeout no Node timer can wait',
      () => HopWebhooksModule.forRoot({ secret: SECRET, api: { token: 'ptk_x', timeoutMs: 3e9 } }),
      '`api.timeoutMs` is longer than a Node timer can wait',
    ],
    [
      'in-memory store settings beside a store of its own',
      () =>
        HopWebhooksModule.forRoot({
          secret: SECRET,
          idempotency: { store: new InMemoryHopEventStore(), capacity: 5 },
        }),
      'with your own `store`, configure it instead',
    ],
  ])('refuses to start with %s, naming the option', async (_case, register, message) => {
    const error = await startupError({ imports: [register()] }, adapter);
    expect(error).toBeInstanceOf(HopConfigurationError);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses a request-scoped handler at startup, saying why', async () => {
    const error = await startupError(
      { imports: [HopWebhooksModule.forRoot(SECRET)], providers: [RequestScopedHandlers] },
      adapter,
    );
    expect(error).toBeInstanceOf(HopConfigurationError);
    expect(error.message).toContain('RequestScopedHandlers.onUpdated');
    expect(error.message).toContain('request-scoped');
  });

  it('refuses a malformed event name where the class is defined, naming the method', () => {
    const define = (events: unknown) => () => {
      @Injectable()
      class MisspeltHandlers {
        @OnHopEvent(events as never)
        never(): void {}
      }
      return MisspeltHandlers;
    };
    expect(define('ignite..deployment')).toThrow(HopConfigurationError);
    expect(define('ignite..deployment')).toThrow(
      "@OnHopEvent on MisspeltHandlers.never: 'ignite..deployment' is not an event name",
    );
    expect(define([])).toThrow('@OnHopEvent on MisspeltHandlers.never: no event name given');
    expect(define('project.updated')).not.toThrow();
  });

  it('warns at startup about names that match no known event, and still starts', async () => {
    const server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot(SECRET)],
      providers: [FutureEventHandlers],
    });
    await server.close();
    const warnings = server.logger.lines('warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(
      "@OnHopEvent('ignite.deployment.exploded') on FutureEventHandlers.onFuture",
    );
    expect(warnings[1]).toContain(
      "@OnHopEvent('project.nothing.**') on FutureEventHandlers.onNothing",
    );
  });

  it('refuses one method decorated twice with different options', async () => {
    @Injectable()
    class AmbiguousHandlers {
      @OnHopEvent('project.updated')
      @OnHopEvent('project.member.created', { suppressErrors: true })
      onEither(): void {}
    }
    const error = await startupError(
      { imports: [HopWebhooksModule.forRoot(SECRET)], providers: [AmbiguousHandlers] },
      adapter,
    );
    expect(error.message).toContain(
      '@OnHopEvent on AmbiguousHandlers.onEither is applied several times with different options',
    );
  });

  it('warns when a shared store can see a handler outlast its claim', async () => {
    const redis = {
      set: async () => 'OK' as const,
      get: async () => null,
      eval: async () => 0,
      ping: async () => 'PONG',
    };
    const server = await startTestApp(adapter, {
      imports: [
        HopWebhooksModule.forRoot({
          secret: SECRET,
          idempotency: { store: new RedisHopEventStore(redis), leaseSeconds: 60 },
        }),
      ],
    });
    await server.close();
    expect(server.logger.lines('warn').join('\n')).toContain(
      'set handlerTimeoutMs below idempotency.leaseSeconds (60 s)',
    );
  });

  it('refuses a non-string path when the module is imported', () => {
    expect(() => HopWebhooksModule.forRoot({ secret: SECRET, path: 42 as never })).toThrow(
      'HopWebhooksModule: `path` must be a string, got number',
    );
  });
});

describe('an application context without HTTP', () => {
  it('boots with HopWebhooksModule (for its service and handlers) and closes', async () => {
    @Module({ imports: [HopWebhooksModule.forRoot({ secret: SECRET, logging: false })] })
    class WorkerModule {}
    const context = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
    await context.init();
    expect(context.get(HopWebhooksService)).toBeInstanceOf(HopWebhooksService);
    await context.close();
  });
});
