import { Module } from '@nestjs/common';
import { BareWebhookController } from './bare-webhook.controller.js';

/** A Nest app that verifies Hop deliveries by hand, without the module. */
@Module({ controllers: [BareWebhookController] })
export class BareAppModule {}
