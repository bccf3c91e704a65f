import type { KeyObject } from 'node:crypto';
import { hopSigningKey, normalizeHopSecrets } from './signature.js';

/**
 * The secrets a delivery may be signed with: the configured ones, plus any that
 * `HopWebhooksService` obtained since startup (a created webhook's, a regenerated one), so
 * deliveries signed with a new secret are accepted before the app's configuration catches up.
 */
export class HopWebhookSecrets {
  private signingKeys: readonly KeyObject[];
  // The newest secret obtained for each webhook: regenerating again replaces it, so a secret
  // rotated away (perhaps because it leaked) stops being accepted here too.
  private readonly obtained = new Map<string, string>();

  constructor(private readonly configured: readonly string[]) {
    this.signingKeys = configured.map(hopSigningKey);
  }

  /** The HMAC key of every secret accepted now, each made once rather than per delivery. */
  get keys(): readonly KeyObject[] {
    return this.signingKeys;
  }

  /** Accepts `secret`, the current one of `webhookId`, from now on, in this process. */
  accept(webhookId: string, secret: string): void {
    const [checked] = normalizeHopSecrets(secret, 'secret');
    this.obtained.set(webhookId, checked!);
    const secrets = new Set([...this.configured, ...this.obtained.values()]);
    this.signingKeys = [...secrets].map(hopSigningKey);
  }
}
