// A Nest app on the Express adapter with HopWebhooksModule and one @OnHopEvent handler, with its telemetry taken out: the baseline of module-express.
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new ExpressAdapter(), 'without-telemetry');
