// The built package, as an app loads it: its CommonJS and ESM copies side by side in one
// process (a CommonJS library of the app's that requires the package, while the app imports it).
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildHopEvent, postHopEvent } from '../../lib/testing/index.js';
import { startTestApp, type TestApp } from '../src/test-app.js';

type Package = typeof import('../../lib/index.js');

const SECRET = 'whsec_dual-package-spec-secret-0123456789';
const DIST = new URL('../../dist/', import.meta.url);

describe('the CommonJS and ESM builds in one app', () => {
  let cjs: Package;
  let esm: Package;
  let server: TestApp | undefined;

  beforeAll(async () => {
    if (!existsSync(new URL('cjs/index.js', DIST))) {
      throw new Error('dist/ is missing: run `npm run build` before these tests');
    }
    cjs = createRequire(import.meta.url)(new URL('cjs/index.js', DIST).pathname) as Package;
    esm = (await import(new URL('esm/index.js', DIST).href)) as Package;
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('are two copies (so the test below means something)', () => {
    expect(cjs.HopWebhooksModule).not.toBe(esm.HopWebhooksModule);
    expect(cjs.OnHopEvent).not.toBe(esm.OnHopEvent);
  });

  it.each([
    { decorating: 'CommonJS', registering: 'ESM' },
    { decorating: 'ESM', registering: 'CommonJS' },
  ] as const)(
    'runs handlers decorated with the $decorating copy when the $registering copy registers the module',
    async ({ decorating }) => {
      const [decorator, registrar] = decorating === 'CommonJS' ? [cjs, esm] : ([esm, cjs] as const);
      const seen: string[] = [];
      @Injectable()
      class Handlers {
        @decorator.OnHopEvent('project.updated')
        onUpdated(event: { id: string }): void {
          seen.push(event.id);
        }
      }
      server = await startTestApp('express', {
        imports: [registrar.HopWebhooksModule.forRoot(SECRET)],
        providers: [Handlers],
      });
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
      expect(seen).toEqual([event.id]);
    },
  );

  it.each(['CommonJS', 'ESM'] as const)(
    "re-emits each event on the app's EventEmitter2 when the %s copy registers the module (it loads @nestjs/event-emitter itself, at startup)",
    async (copy) => {
      const registrar = copy === 'CommonJS' ? cjs : esm;
      const heard: string[] = [];
      @Injectable()
      class Listener {
        @OnEvent('hop.project.updated')
        onUpdated(event: { id: string }): void {
          heard.push(event.id);
        }
      }
      server = await startTestApp('express', {
        imports: [EventEmitterModule.forRoot(), registrar.HopWebhooksModule.forRoot(SECRET)],
        providers: [Listener],
      });
      const event = buildHopEvent('project.updated');
      expect((await postHopEvent(server.url(), event, SECRET)).status).toBe(204);
      expect(heard).toEqual([event.id]);
    },
  );

  it('provides the configuration under the token either copy exports', async () => {
    server = await startTestApp('express', { imports: [esm.HopWebhooksModule.forRoot(SECRET)] });
    expect(cjs.HOP_WEBHOOKS_CONFIG).toBe(esm.HOP_WEBHOOKS_CONFIG);
    const config = server.app.get<{ secrets: string[] }>(cjs.HOP_WEBHOOKS_CONFIG);
    expect(config.secrets).toEqual([SECRET]);
  });
});
