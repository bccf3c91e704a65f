import 'reflect-metadata';
import { RouteConfig } from '@nestjs/platform-fastify';
import { describe, expect, it } from 'vitest';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '../../lib/nest/fastify-body.reader.js';

// The Fastify body reader marks the webhook route the way `@RouteConfig()` does, without
// importing @nestjs/platform-fastify; this fails if a Nest release moves the key.
describe('the Fastify route config key', () => {
  it("is the key under which this Nest's @RouteConfig() keeps a route's config", () => {
    class Controller {
      handle(): void {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Controller.prototype, 'handle')!;
    RouteConfig({ marked: true })(Controller.prototype, 'handle', descriptor);
    expect(Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, descriptor.value)).toEqual({
      marked: true,
    });
  });
});
