import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { portOf, type RunningServer } from '../server-child.js';

/**
 * Creates a Nest app with errors-only logging and listens on a loopback port (0: any free
 * one). `handled` reads the app's count of accepted deliveries. `rawBody` as the app needs:
 * the module's app is created as the README says (without), the hand-written one needs it.
 */
export async function listenNestApp(
  port: number,
  module: Type | DynamicModule,
  adapter: AbstractHttpAdapter,
  handled: (app: INestApplication) => number,
  rawBody: boolean,
): Promise<RunningServer> {
  const app = await NestFactory.create(module, adapter, {
    rawBody,
    logger: ['error'],
    abortOnError: false,
  });
  await app.listen(port, '127.0.0.1');
  return {
    port: portOf(app.getHttpServer()),
    handled: () => handled(app),
    close: () => app.close(),
  };
}
