// The README's code, type-checked by `npm run typecheck` (not run): if an example stops
// compiling, the README no longer tells the truth.
import {
  Controller,
  Get,
  Injectable,
  Module,
  SetMetadata,
  type INestApplication,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Queue } from 'bullmq';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  HopWebhooksModule,
  HopWebhooksService,
  OnHopEvent,
  RedisHopEventStore,
  signHopPayload,
  type HopEvent,
  type HopRedisClient,
} from '../../lib/index.js';
import {
  buildHopEvent,
  HopApiEmulator,
  hopEventExampleData,
  postHopEvent,
} from '../../lib/testing/index.js';
import { HopWebhooksHealthIndicator } from '../../lib/health/index.js';

declare const alerts: { buildFailed(id: string): Promise<void> };
declare const redis: HopRedisClient;

@Injectable()
export class DeploymentsService {
  @OnHopEvent('ignite.deployment.build.updated')
  async onBuildUpdated(event: HopEvent<'ignite.deployment.build.updated'>) {
    if (event.data.state === 'failed') await alerts.buildFailed(event.data.id);
  }

  @OnHopEvent(['project.member.created', 'project.member.deleted'])
  onMembership(_event: HopEvent<'project.member.created' | 'project.member.deleted'>) {}

  @OnHopEvent('ignite.**')
  onIgnite(_event: HopEvent) {}

  @OnHopEvent('*')
  audit(_event: HopEvent) {}
}

@Module({
  imports: [HopWebhooksModule.forRoot(process.env.HOP_WEBHOOK_SECRET)],
  providers: [DeploymentsService],
})
export class AppModule {}

export const asyncRegistration = HopWebhooksModule.forRootAsync({
  imports: [ConfigModule],
  inject: [ConfigService],
  useFactory: (config: ConfigService) => ({
    secret: config.getOrThrow<string>('HOP_WEBHOOK_SECRET'),
    api: { token: config.getOrThrow<string>('HOP_TOKEN') },
  }),
  path: 'integrations/hop',
  isGlobal: true,
});

export const withRedis = HopWebhooksModule.forRoot({
  secret: 'whsec_x',
  idempotency: { store: new RedisHopEventStore(redis) },
  maxEventAgeSeconds: 300,
  handlerTimeoutMs: 10_000,
});

@Injectable()
export class HopSetup {
  constructor(private readonly hop: HopWebhooksService) {}

  async rotate(id: string): Promise<string> {
    return this.hop.regenerateSecret(id);
  }
}

export const optionsBesideDecorators = HopWebhooksModule.forRoot({
  secret: process.env.HOP_WEBHOOK_SECRET,
  decorators: [SetMetadata('isPublic', true)],
  version: '2',
});

export async function setUpExamples(): Promise<void> {
  await NestFactory.create(AppModule);
  await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
}

export async function testingExamples(): Promise<void> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app: INestApplication = moduleRef.createNestApplication();
  await app.listen(0, '127.0.0.1');
  const event = buildHopEvent('ignite.deployment.build.updated', {
    data: { ...hopEventExampleData('ignite.deployment.build.updated'), state: 'failed' },
  });
  const response = await postHopEvent(
    `${await app.getUrl()}/hop/webhook`,
    event,
    process.env.HOP_WEBHOOK_SECRET!,
  );
  void response.status;
  const url = `${await app.getUrl()}/hop/webhook`;

  const fastify = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  await fastify.listen(0, '127.0.0.1');
  await fastify.getHttpAdapter().getInstance().ready();
  void signHopPayload(JSON.stringify(event), 'whsec_test');

  const hop = await HopApiEmulator.start();
  await app.get(HopWebhooksService).syncSubscriptions(url);
  const { deliveries } = await hop.emit('ignite.deployment.build.updated');
  void deliveries[0]?.status;
  hop.failNext(2, 503);
  hop.delayNext(1, 2_000);
  await hop.close();
}

// Observability: the health indicator, in the module that has the app's /health endpoint.
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly hop: HopWebhooksHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.hop.isHealthy('hop-webhooks')]);
  }
}

@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [HopWebhooksHealthIndicator],
})
export class HealthModule {}

// Observability: the meter provider, registered before the app is created.
export const meterProvider = new MeterProvider({
  readers: [new PrometheusExporter({ host: '127.0.0.1', port: 9464 })],
});
metrics.setGlobalMeterProvider(meterProvider);

// Queue mode with @nestjs/bullmq, a receive-only and a worker-only registration.
@Module({
  imports: [
    BullModule.forRoot({ connection: { url: process.env.REDIS_URL } }),
    BullModule.registerQueue({ name: 'hop' }),
    HopWebhooksModule.forRootAsync({
      imports: [BullModule.registerQueue({ name: 'hop' })],
      inject: [getQueueToken('hop')],
      useFactory: (queue: Queue) => ({
        secret: process.env.HOP_WEBHOOK_SECRET,
        queue: { queue },
      }),
    }),
  ],
  providers: [DeploymentsService],
})
export class QueueAppModule {}

// Queue mode with a queue of your own, closed by the provider that owns it.
@Injectable()
export class OwnHopQueue implements OnApplicationShutdown {
  readonly queue = new Queue('hop', { connection: { url: process.env.REDIS_URL } });
  onApplicationShutdown(): Promise<void> {
    return this.queue.close(); // after the module's worker has finished its jobs
  }
}

@Module({ providers: [OwnHopQueue], exports: [OwnHopQueue] })
export class OwnHopQueueModule {}

export const ownQueueRegistration = HopWebhooksModule.forRootAsync({
  imports: [OwnHopQueueModule],
  inject: [OwnHopQueue],
  useFactory: ({ queue }: OwnHopQueue) => ({
    secret: process.env.HOP_WEBHOOK_SECRET,
    queue: { queue },
  }),
});

const ownQueue = new Queue('hop', { connection: { url: process.env.REDIS_URL } });
export const receiveOnly = HopWebhooksModule.forRoot({
  secret: process.env.HOP_WEBHOOK_SECRET,
  queue: { queue: ownQueue, worker: false },
});
export const workOnly = HopWebhooksModule.forRoot({
  receive: false,
  queue: { queue: ownQueue },
});
