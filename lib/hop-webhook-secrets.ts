import { normalizeHopSecrets } from './hop-signature.js';

/**
 * The secrets a delivery may be signed with: the configured ones, plus any that
 * `HopWebhooksService` obtained since startup (a created webhook's, a regenerated one), so
 * deliveries signed with a new secret are accepted before the app's configuration catches up.
 */
export class HopWebhookSecrets {
  private secrets: readonly string[];

  constructor(configured: readonly string[]) {
    this.secrets = [...configured];
  }

  /** Every secret accepted now. */
  get all(): readonly string[] {
    return this.secrets;
  }

  /** Accepts `secret` from now on, in this process. */
  accept(secret: string): void {
    const [checked] = normalizeHopSecrets(secret, 'secret');
    if (!this.secrets.includes(checked!)) this.secrets = [...this.secrets, checked!];
  }
}
