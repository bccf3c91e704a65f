import { Module } from '@nestjs/common';
import { HopWebhooksModule } from 'nestjs-hop-webhooks';
import { SECRET } from '../fixture.js';
import { BuildUpdatesCounter } from './build-updates.counter.js';

/**
 * The module as an app uses it: `forRoot` with the secret and one `@OnHopEvent` handler.
 * `logging: false` keeps the startup lines out (deliveries are not logged by default anyway).
 */
@Module({
  imports: [HopWebhooksModule.forRoot({ secret: SECRET, logging: false })],
  providers: [BuildUpdatesCounter],
})
export class ModuleAppModule {}
