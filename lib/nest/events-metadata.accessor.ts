import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HOP_EVENT_HANDLER_METADATA } from './constants.js';
import type { HopEventHandlerMetadata } from './on-hop-event.decorator.js';

/** Reads what `@OnHopEvent` recorded on a method. */
@Injectable()
export class HopEventsMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getHandlerMetadata(method: unknown): readonly HopEventHandlerMetadata[] | undefined {
    if (typeof method !== 'function') return undefined;
    return this.reflector.get<HopEventHandlerMetadata[] | undefined>(
      HOP_EVENT_HANDLER_METADATA,
      method,
    );
  }
}
