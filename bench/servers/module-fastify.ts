// A Nest app on the Fastify adapter with HopWebhooksModule and one @OnHopEvent handler, as an app without OpenTelemetry runs it.
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new FastifyAdapter(), 'plain');
