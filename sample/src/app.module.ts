import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { HopWebhooksModule, type HopApiOptions } from 'nestjs-hop-webhooks';
import { ActivityLog } from './activity-log.js';
import { DeploymentsService } from './deployments.service.js';
import { DEVELOPMENT_SECRET } from './sample-secret.js';

@Module({})
export class AppModule {
  /** `hopApi`: where `HopWebhooksService` reaches Hop (the real API or a local emulator). */
  static register(hopApi: HopApiOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(),
        HopWebhooksModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            secret: config.get<string>('HOP_WEBHOOK_SECRET') ?? DEVELOPMENT_SECRET,
            api: hopApi,
          }),
        }),
      ],
      providers: [DeploymentsService, ActivityLog],
    };
  }
}
