export {
  HopWebhooksHealthIndicator,
  type HopWebhooksHealthDetails,
} from './webhooks.health-indicator.js';
