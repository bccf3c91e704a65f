/** Why a delivery was refused by {@link constructHopEvent} or the signature guard. */
export type HopWebhookErrorCode =
  | 'signature_missing'
  | 'signature_malformed'
  | 'signature_mismatch'
  | 'body_not_json'
  | 'envelope_invalid'
  | 'body_too_large'
  | 'body_not_json_type'
  | 'body_encoded'
  | 'body_incomplete';

/**
 * A delivery that must not reach a handler. `code` says which check failed; the message
 * never contains the secret or the body, so it is safe to log and to answer with.
 */
export class HopWebhookError extends Error {
  constructor(
    readonly code: HopWebhookErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The `X-Hop-Hooks-Signature` header is missing, malformed, or signed with another secret. */
export class HopSignatureError extends HopWebhookError {
  declare readonly code: 'signature_missing' | 'signature_malformed' | 'signature_mismatch';
}

/** The signature is valid but the body is not a Hop event envelope. */
export class HopPayloadError extends HopWebhookError {
  declare readonly code: 'body_not_json' | 'envelope_invalid';
}

/**
 * The body could not be read as sent: larger than the limit, not JSON by its `Content-Type`,
 * compressed, or cut short. Nothing of it was parsed.
 */
export class HopBodyError extends HopWebhookError {
  declare readonly code:
    'body_too_large' | 'body_not_json_type' | 'body_encoded' | 'body_incomplete';
}

/** The module or a handler is set up in a way that cannot work; thrown at startup. */
export class HopConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HopConfigurationError';
  }
}

/**
 * A call to Hop's API failed. Carries what is needed to act on it and never the token:
 * the HTTP `status` (absent when no answer came), Hop's error `code` and `message`, and the
 * request's `method` and `path`.
 */
export class HopApiError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: string,
    readonly hopMessage: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(
      `Hop API ${method} ${path} failed${status ? ` with ${status}` : ''}: ${code}: ${hopMessage}`,
    );
    this.name = 'HopApiError';
  }
}

/** An argument to `HopWebhooksService` is invalid; thrown before any request is made. */
export class HopValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HopValidationError';
  }
}

/**
 * An error's message for a log line, whatever was thrown.
 * @internal
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Hop's event ids are `event_` and about 26 characters; a longer one is cut where it is shown.
const SHOWN_LENGTH = 64;

/**
 * `Hop event <id> (<event>)`, as answers and log lines name an event, each part through
 * {@link printable}, so that no event, signed or not, writes a long or forged line into the
 * app's log or an answer.
 * @internal
 */
export function describeHopEvent(event: { readonly id: string; readonly event: string }): string {
  return `Hop event ${printable(event.id)} (${printable(event.event)})`;
}

/**
 * Text from a delivery as it may be shown: cut after 64 characters (marked `…`), and each
 * character but visible ASCII, and `\` itself, written as an escape (`\u{a}`).
 * @internal
 */
export function printable(text: string): string {
  // No character is longer than two code units: the first 64 are in the first 128 units.
  const characters = Array.from(text.slice(0, SHOWN_LENGTH * 2));
  const shown = characters
    .slice(0, SHOWN_LENGTH)
    .map((character) =>
      /^[\x21-\x5b\x5d-\x7e]$/.test(character)
        ? character
        : `\\u{${character.codePointAt(0)!.toString(16)}}`,
    )
    .join('');
  const cut = characters.length > SHOWN_LENGTH || text.length > SHOWN_LENGTH * 2;
  return cut ? `${shown}…` : shown;
}
