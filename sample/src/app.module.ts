import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { HopWebhooksModule } from 'nestjs-hop-webhooks';
import { ActivityLog } from './activity-log.js';
import { DeploymentsService } from './deployments.service.js';
import { DEVELOPMENT_SECRET } from './sample-secret.js';

@Module({
  imports: [
    ConfigModule.forRoot(),
    HopWebhooksModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        secret: config.get<string>('HOP_WEBHOOK_SECRET') ?? DEVELOPMENT_SECRET,
      }),
    }),
  ],
  providers: [DeploymentsService, ActivityLog],
})
export class AppModule {}
