// A Nest app on the Fastify adapter with HopWebhooksModule in queue mode, receiving only: each
// delivery becomes a BullMQ job on a redis-server of its own.
import 'reflect-metadata';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new FastifyAdapter(), 'queue');
