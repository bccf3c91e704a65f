// A Nest app on the Fastify adapter with HopWebhooksModule and one @OnHopEvent handler, with its telemetry taken out: the baseline of module-fastify.
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new FastifyAdapter(), 'without-telemetry');
