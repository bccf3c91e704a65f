// A Nest app on the Express adapter with HopWebhooksModule and one @OnHopEvent handler, as an app without OpenTelemetry runs it.
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new ExpressAdapter(), 'plain');
