// A Nest app on the Express adapter with the hand-written verifying controller: the baseline
// for the module on Express.
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { BareAppModule } from '../apps/bare-app.module.js';
import { BareWebhookController } from '../apps/bare-webhook.controller.js';
import { listenNestApp } from '../apps/listen.js';
import { serveForBenchmark } from '../server-child.js';

serveForBenchmark((port) =>
  listenNestApp(
    port,
    BareAppModule,
    new ExpressAdapter(),
    (app) => app.get(BareWebhookController).handled,
    true,
  ),
);
