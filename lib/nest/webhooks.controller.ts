import {
  BadRequestException,
  Controller,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  SetMetadata,
  Type,
  UseGuards,
} from '@nestjs/common';
import { parseHopEvent } from '../core/event.parser.js';
import { HopPayloadError } from '../core/errors.js';
import { receivedBody, type HopWebhookRequest } from '../core/raw-body.js';
import { HOP_DELIVERY } from '../core/telemetry.js';
import { HopDeliveryProcessor } from './delivery.processor.js';
import { FASTIFY_ROUTE_CONFIG_METADATA, HOP_ROUTE_CONFIG_KEY } from './fastify-body.reader.js';
import { HopSignatureGuard } from './signature.guard.js';
import { routeMark, type ResolvedHopWebhooksRoute } from './webhooks.route.js';

/**
 * Receives Hop's `POST`: the guard has verified the signature over the bytes the route read
 * itself; this parses them and answers once every handler has finished (204), or 400 / 500.
 */
export class HopWebhooksController {
  constructor(@Inject(HopDeliveryProcessor) private readonly deliveries: HopDeliveryProcessor) {}

  receive(request: HopWebhookRequest): Promise<void> {
    const delivery = request[HOP_DELIVERY];
    let event;
    try {
      // The guard let the request through, so its bytes are there.
      event = parseHopEvent(receivedBody(request) as Buffer);
    } catch (error) {
      if (error instanceof HopPayloadError) {
        delivery?.refused(error.code);
        throw new BadRequestException(error.message);
      }
      throw error;
    }
    delivery?.verified(event);
    // Returned, not awaited: Nest awaits it, and one promise fewer per delivery shows.
    return this.deliveries.process(event, delivery);
  }
}

/**
 * A controller class of its own for one module registration, mounted at its path and
 * decorated before Nest scans it, so that two apps in one process never share a route. Its
 * `receive` is its own too: it carries the registration's mark, by which the Fastify body
 * reader finds the route.
 */
export function createHopWebhooksController(
  route: ResolvedHopWebhooksRoute,
): Type<HopWebhooksController> {
  const Base = HopWebhooksController;
  const controller = class HopWebhooksController extends Base {
    override receive(request: HopWebhookRequest): Promise<void> {
      return super.receive(request);
    }
  };
  Controller({ path: route.path, version: route.version })(controller);
  for (const decorate of route.decorators) decorate(controller);
  const { prototype } = controller;
  const receive = Object.getOwnPropertyDescriptor(prototype, 'receive') as PropertyDescriptor;
  const handlerDecorators = [
    Post(),
    HttpCode(HttpStatus.NO_CONTENT),
    UseGuards(HopSignatureGuard),
    SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { [HOP_ROUTE_CONFIG_KEY]: routeMark(route) }),
  ];
  for (const decorate of handlerDecorators) decorate(prototype, 'receive', receive);
  Req()(prototype, 'receive', 0);
  return controller;
}
