export { HOP_EVENT_EXAMPLES, hopEventExampleData } from './hop-event-examples.js';
export {
  buildHopEvent,
  hopId,
  postHopEvent,
  signHopDelivery,
  type HopDelivery,
  type HopEventOverrides,
} from './hop-delivery.js';
export {
  HopApiEmulator,
  type HopApiEmulatorOptions,
  type HopEmulatorDelivery,
  type HopEmulatorEmitOptions,
  type HopEmulatorEmitResult,
  type HopEmulatorEvent,
  type HopEmulatorFailureOptions,
  type HopEmulatorRequest,
  type HopEmulatorWebhook,
} from './hop-api-emulator.js';
