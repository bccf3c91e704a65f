import {
  Controller,
  HttpCode,
  HttpStatus,
  Post,
  Req,
  Type,
  UseGuards,
  BadRequestException,
} from '@nestjs/common';
import { parseHopEvent } from '../core/event.parser.js';
import { HopDeliveryProcessor } from './delivery.processor.js';
import { readRawBody, type HopWebhookRequest } from '../core/raw-body.js';
import { HopSignatureGuard } from './signature.guard.js';
import { HopPayloadError } from '../core/errors.js';
import type { ResolvedHopWebhooksRoute } from './webhooks.route.js';

/**
 * Receives Hop's `POST`: the guard has verified the signature, this parses the envelope and
 * answers once every handler has finished (204), or 400 / 500.
 */
@Controller()
export class HopWebhooksController {
  constructor(private readonly deliveries: HopDeliveryProcessor) {}

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(HopSignatureGuard)
  receive(@Req() request: HopWebhookRequest): Promise<void> {
    let event;
    try {
      event = parseHopEvent(readRawBody(request) as Buffer);
    } catch (error) {
      if (error instanceof HopPayloadError) throw new BadRequestException(error.message);
      throw error;
    }
    // Returned, not awaited: Nest awaits it, and one promise fewer per delivery shows.
    return this.deliveries.process(event);
  }
}

/**
 * A controller class of its own for one module registration, mounted at its path and
 * decorated before Nest scans it, so that two apps in one process never share a route.
 */
export function createHopWebhooksController(
  route: ResolvedHopWebhooksRoute,
): Type<HopWebhooksController> {
  const Base = HopWebhooksController;
  const controller = class HopWebhooksController extends Base {};
  Controller({ path: route.path, version: route.version })(controller);
  for (const decorate of route.decorators) decorate(controller);
  return controller;
}
