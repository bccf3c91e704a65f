export { HOP_EVENT_EXAMPLES, hopEventExampleData } from './hop-event-examples.js';
export {
  buildHopEvent,
  hopId,
  postHopEvent,
  signHopDelivery,
  type HopDelivery,
  type HopEventOverrides,
} from './hop-delivery.js';
