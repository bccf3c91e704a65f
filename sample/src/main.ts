import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { DEVELOPMENT_SECRET } from './sample-secret.js';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  // rawBody: the signature is computed over the body's exact bytes.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await app.listen(port, host);
  if (process.env.HOP_WEBHOOK_SECRET === undefined) {
    logger.warn(`HOP_WEBHOOK_SECRET is unset: using the development secret ${DEVELOPMENT_SECRET}`);
  }
  logger.log(`Listening on http://${host}:${port}/hop/webhook`);
  logger.log('Send it a signed event: npm run send -- ignite.deployment.build.updated');
}

void bootstrap();
