// A Nest app on the Express adapter with HopWebhooksModule and one @OnHopEvent handler.
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { BuildUpdatesCounter } from '../apps/build-updates.counter.js';
import { listenNestApp } from '../apps/listen.js';
import { ModuleAppModule } from '../apps/module-app.module.js';
import { serveForBenchmark } from '../server-child.js';

serveForBenchmark((port) =>
  listenNestApp(
    port,
    ModuleAppModule,
    new ExpressAdapter(),
    (app) => app.get(BuildUpdatesCounter).handled,
    false,
  ),
);
