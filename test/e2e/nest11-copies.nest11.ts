// Only in `npm run test:nest11` (vitest.nest11.config.ts): the `@nestjs/*` (and rxjs) that lib/
// and test/ import are the test/nest11 copies, one of each, and Observables from handlers and
// interceptors work.
import { createRequire } from 'node:module';
import * as common from '@nestjs/common';
import {
  Controller,
  Get,
  Injectable,
  type CallHandler,
  type NestInterceptor,
} from '@nestjs/common';
import * as config from '@nestjs/config';
import * as core from '@nestjs/core';
import * as instanceWrapper from '@nestjs/core/injector/instance-wrapper.js';
import * as eventEmitter from '@nestjs/event-emitter';
import * as platformExpress from '@nestjs/platform-express';
import * as platformFastify from '@nestjs/platform-fastify';
import * as testing from '@nestjs/testing';
import * as rxjs from 'rxjs';
import { map, of, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ADAPTERS, startTestApp } from '../src/test-app.js';

const nest11 = createRequire(new URL('../nest11/package.json', import.meta.url));

describe('Nest 11 copies', () => {
  it.each([
    ['@nestjs/common', common, 'Module', '11.'],
    ['@nestjs/core', core, 'NestFactory', '11.'],
    ['@nestjs/core/injector/instance-wrapper.js', instanceWrapper, 'InstanceWrapper', '11.'],
    ['@nestjs/config', config, 'ConfigModule', '4.'],
    ['@nestjs/event-emitter', eventEmitter, 'EventEmitterModule', '3.'],
    ['@nestjs/platform-express', platformExpress, 'ExpressAdapter', '11.'],
    ['@nestjs/platform-fastify', platformFastify, 'FastifyAdapter', '11.'],
    ['@nestjs/testing', testing, 'Test', '11.'],
    ['rxjs', rxjs, 'Observable', '7.'],
  ] as const)('%s is the test/nest11 copy', (id, imported, name, major) => {
    const pkg = id.split('/').slice(0, 2).join('/');
    const { version } = nest11(`${pkg}/package.json`) as { version: string };
    expect(version.startsWith(major)).toBe(true);
    expect(nest11.resolve(id)).toMatch(/[\\/]test[\\/]nest11[\\/]node_modules[\\/]/);
    expect((imported as Record<string, unknown>)[name]).toBeTruthy();
    expect((imported as Record<string, unknown>)[name]).toBe(
      (nest11(id) as Record<string, unknown>)[name],
    );
  });

  it.each([
    '@nestjs/core',
    '@nestjs/config',
    '@nestjs/event-emitter',
    '@nestjs/platform-express',
    '@nestjs/platform-fastify',
    '@nestjs/testing',
  ])('%s requires the same @nestjs/common and @nestjs/core', (id) => {
    const inner = createRequire(nest11.resolve(id));
    expect((inner('@nestjs/common') as typeof common).Module).toBe(common.Module);
    expect((inner('@nestjs/core') as typeof core).NestFactory).toBe(core.NestFactory);
  });

  it('CommonJS outside test/nest11 (dist/cjs, as test/package/ loads it) requires them too', () => {
    const outside = createRequire(new URL('../../dist/cjs/index.js', import.meta.url));
    expect((outside('@nestjs/common') as typeof common).Module).toBe(common.Module);
    expect((outside('@nestjs/core') as typeof core).NestFactory).toBe(core.NestFactory);
    expect(outside.resolve('@nestjs/event-emitter')).toBe(nest11.resolve('@nestjs/event-emitter'));
  });
});

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

@Controller('rx')
@common.UseInterceptors(WrapInterceptor)
class RxController {
  @Get()
  get(): Observable<{ answer: number }> {
    return of({ answer: 42 });
  }
}

describe.each(ADAPTERS)('Observables on %s', (adapter) => {
  it('a handler returning an Observable behind an interceptor that maps it', async () => {
    const app = await startTestApp(adapter, { controllers: [RxController] });
    try {
      const response = await fetch(app.url('/rx'));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ wrapped: { answer: 42 } });
    } finally {
      await app.close();
    }
  });
});
