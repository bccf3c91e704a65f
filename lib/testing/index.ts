export { HOP_EVENT_EXAMPLES, hopEventExampleData } from './event-examples.js';
export {
  buildHopEvent,
  hopId,
  postHopEvent,
  signHopDelivery,
  type HopDelivery,
  type HopEventOverrides,
} from './delivery.js';
export { HopApiEmulator } from './api-emulator/api-emulator.js';
export type {
  HopApiEmulatorOptions,
  HopEmulatorEmitOptions,
  HopEmulatorFailureOptions,
} from './api-emulator/api-emulator-options.interface.js';
export type {
  HopEmulatorDelivery,
  HopEmulatorEmitResult,
  HopEmulatorEvent,
  HopEmulatorRequest,
  HopEmulatorWebhook,
} from './api-emulator/emulator.types.js';
