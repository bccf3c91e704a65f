import { Module } from '@nestjs/common';
import { HopWebhooksModule } from 'nestjs-hop-webhooks';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { BuildEventsService } from './build-events.service.js';

@Module({
  imports: [HopWebhooksModule.forRoot(process.env.HOP_WEBHOOK_SECRET)],
  controllers: [AppController],
  providers: [AppService, BuildEventsService],
})
export class AppModule {}
