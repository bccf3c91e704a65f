// A Nest app on the Fastify adapter with HopWebhooksModule and one @OnHopEvent handler.
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BuildUpdatesCounter } from '../apps/build-updates.counter.js';
import { listenNestApp } from '../apps/listen.js';
import { ModuleAppModule } from '../apps/module-app.module.js';
import { serveForBenchmark } from '../server-child.js';

serveForBenchmark((port) =>
  listenNestApp(
    port,
    ModuleAppModule,
    new FastifyAdapter(),
    (app) => app.get(BuildUpdatesCounter).handled,
    false,
  ),
);
