// A Nest app on the Express adapter with HopWebhooksModule in queue mode, receiving only: each
// delivery becomes a BullMQ job on a redis-server of its own.
import 'reflect-metadata';
import { ExpressAdapter } from '@nestjs/platform-express';
import { serveModuleApp } from '../apps/module-app.module.js';

serveModuleApp(new ExpressAdapter(), 'queue');
