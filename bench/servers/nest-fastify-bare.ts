// A Nest app on the Fastify adapter with the hand-written verifying controller: the baseline
// for the module on Fastify.
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BareAppModule } from '../apps/bare-app.module.js';
import { BareWebhookController } from '../apps/bare-webhook.controller.js';
import { listenNestApp } from '../apps/listen.js';
import { serveForBenchmark } from '../server-child.js';

serveForBenchmark((port) =>
  listenNestApp(
    port,
    BareAppModule,
    new FastifyAdapter(),
    (app) => app.get(BareWebhookController).handled,
    true,
  ),
);
