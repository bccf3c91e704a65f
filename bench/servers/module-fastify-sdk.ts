// A Nest app on the Fastify adapter with HopWebhooksModule and one @OnHopEvent handler, with the OpenTelemetry SDK registered (in-memory exporters).
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new FastifyAdapter(), 'sdk');
