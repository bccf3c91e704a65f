// First: the meter provider must be registered before anything takes a meter.
import { meterProvider } from './telemetry.js';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HopWebhooksService, type HopApiOptions } from 'nestjs-hop-webhooks';
import { HopApiEmulator } from 'nestjs-hop-webhooks/testing';
import { AppModule } from './app.module.js';
import { DEVELOPMENT_SECRET } from './sample-secret.js';

const logger = new Logger('Sample');

async function bootstrap(): Promise<void> {
  // Without HOP_TOKEN, Hop's API is emulated in this process, so everything works offline.
  const emulator = process.env.HOP_TOKEN
    ? undefined
    : await HopApiEmulator.start({ port: Number(process.env.HOP_EMULATOR_PORT ?? 0) });
  const hopApi: HopApiOptions = emulator
    ? { token: 'ptk_sample-app', baseUrl: emulator.url }
    : {
        token: process.env.HOP_TOKEN!,
        projectId: process.env.HOP_PROJECT_ID,
        baseUrl: process.env.HOP_API_URL,
      };

  const app = await NestFactory.create(AppModule.register(hopApi));
  app.enableShutdownHooks();
  // On shutdown Nest closes the app's HTTP server, once its deliveries are drained: metrics follow.
  app.getHttpServer().once('close', () => void meterProvider.shutdown());
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);
  const localUrl = `http://${host}:${port}/hop/webhook`;
  if (process.env.HOP_WEBHOOK_SECRET === undefined) {
    logger.warn(`HOP_WEBHOOK_SECRET is unset: using the development secret ${DEVELOPMENT_SECRET}`);
  }
  logger.log(`Receiving Hop webhooks on ${localUrl}`);

  // Hop must reach the app: the local URL for the emulator, a public one for the real API.
  const webhookUrl = emulator ? localUrl : process.env.HOP_WEBHOOK_URL;
  if (webhookUrl) {
    const sync = await app.get(HopWebhooksService).syncSubscriptions(webhookUrl);
    logger.log(
      `Hop webhook ${sync.webhook?.id} for ${webhookUrl}: ${sync.action} (${sync.events.length} events)`,
    );
  } else {
    logger.log('Set HOP_WEBHOOK_URL (the public URL of this app) to sync its Hop subscriptions');
  }

  logger.log('Send it a signed event: npm run send -- ignite.deployment.build.updated');
  if (emulator) {
    logger.log(`Hop's API is emulated at ${emulator.url} (set HOP_TOKEN to use the real one)`);
    logger.log(
      `Emit through it: curl -X POST ${emulator.url}/_emulator/emit -H 'content-type: application/json' -d '{"event":"ignite.deployment.build.updated"}'`,
    );
  }
}

void bootstrap();
