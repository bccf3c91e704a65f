/**
 * The shapes of Hop's ids and tokens, as the module's options, `HopWebhooksService` and the
 * API emulator check them.
 */

/** A project token (`ptk_…`), personal access token (`pat_…`) or bearer token (`bearer_…`). */
export const HOP_TOKEN_FORMAT = /^(ptk|pat|bearer)_[A-Za-z0-9_-]+$/;

/** The kind of a Hop token (`ptk`, `pat` or `bearer`), or `undefined` if it is none. */
export function hopTokenKind(token: string): 'ptk' | 'pat' | 'bearer' | undefined {
  return HOP_TOKEN_FORMAT.exec(token)?.[1] as 'ptk' | 'pat' | 'bearer' | undefined;
}

export const HOP_PROJECT_ID_FORMAT = /^project_[A-Za-z0-9_-]+$/;

export const HOP_WEBHOOK_ID_FORMAT = /^webhook_[A-Za-z0-9_-]+$/;
