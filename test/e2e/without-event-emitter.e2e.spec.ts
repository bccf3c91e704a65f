// An app that does not use @nestjs/event-emitter need not be able to load it: here every import
// of it fails, as `npm install` leaves it out (an optional peer), or as Jest fails on its 12 (ES
// modules only) in a CommonJS app before Node 24.9.
import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HopWebhooksModule } from '../../lib/index.js';
import { buildHopEvent, postHopEvent } from '../../lib/testing/index.js';
import { CallRecorder, RoutingHandlers } from '../src/recording-handlers.js';
import { ADAPTERS, startTestApp, startupError, type TestApp } from '../src/test-app.js';

const loads = vi.hoisted(() => ({ tried: 0 }));
vi.mock('@nestjs/event-emitter', () => {
  loads.tried += 1;
  throw new Error('Must use import to load ES Module: @nestjs/event-emitter');
});

const SECRET = 'whsec_e2e-no-event-emitter-0123456789';

describe.each(ADAPTERS)('on %s, with @nestjs/event-emitter not loadable', (adapter) => {
  let server: TestApp;

  beforeAll(async () => {
    loads.tried = 0;
    server = await startTestApp(adapter, {
      imports: [HopWebhooksModule.forRoot({ secret: SECRET })],
      providers: [CallRecorder, RoutingHandlers],
    });
  });
  afterAll(() => server.close());

  it('the module tried to load it, and could not', async () => {
    expect(loads.tried).toBeGreaterThan(0);
    await expect(import('@nestjs/event-emitter')).rejects.toThrow(Error);
  });

  it('starts, and runs each matching @OnHopEvent handler once per delivery', async () => {
    const event = buildHopEvent('ignite.deployment.build.updated');
    expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
    expect(server.app.get(CallRecorder).handlersFor(event.id)).toEqual(['*', 'exact', 'ignite.**']);
    expect(server.logger.lines('error')).toEqual([]);
  });

  it('stops the app at startup if the app has an EventEmitter2 all the same, whose listeners would hear nothing', async () => {
    // What an app that loaded the package another way provides, by the same class name.
    @Injectable()
    class EventEmitter2 {}
    const error = await startupError(
      {
        imports: [HopWebhooksModule.forRoot({ secret: SECRET })],
        providers: [EventEmitter2, RoutingHandlers, CallRecorder],
      },
      adapter,
    );
    expect(error.name).toBe('HopConfigurationError');
    expect(error.message).toContain(
      'the app has an EventEmitter2, but this copy of nestjs-hop-webhooks cannot load @nestjs/event-emitter',
    );
    expect(error.message).toContain('load both the same way');
  });
});
