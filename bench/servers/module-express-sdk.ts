// A Nest app on the Express adapter with HopWebhooksModule and one @OnHopEvent handler, with the OpenTelemetry SDK registered (in-memory exporters).
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new ExpressAdapter(), 'sdk');
