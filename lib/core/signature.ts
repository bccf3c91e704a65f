import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { HopConfigurationError, HopSignatureError } from './errors.js';

/** The header Hop signs each delivery with (lower case, as Node exposes headers). */
export const HOP_SIGNATURE_HEADER = 'x-hop-hooks-signature';

/** A request body exactly as received: bytes, or the same bytes already decoded as UTF-8. */
export type HopRawBody = Buffer | Uint8Array | string;

/** One webhook secret (`whsec_…`), or several during a rotation: any of them is accepted. */
export type HopSecrets = string | readonly string[];

/**
 * A secret as the HMAC takes it: the string, or the key made from it once (see
 * {@link hopSigningKey}), which saves encoding the secret again for every delivery.
 * @internal
 */
export type HopSigningKey = string | KeyObject;

/**
 * Signs `rawBody` the way Hop does: HMAC-SHA256 keyed with the whole secret string
 * (`whsec_` prefix included), as upper-case hex. Use it to build deliveries in tests.
 *
 * @example
 * const body = JSON.stringify(event);
 * await fetch(url, { method: 'POST', body, headers: {
 *   'content-type': 'application/json',
 *   'x-hop-hooks-signature': signHopPayload(body, secret),
 * } });
 */
export function signHopPayload(rawBody: HopRawBody, secret: string): string {
  const [key] = normalizeHopSecrets(secret, 'secret');
  return hmac(rawBody, key).toString('hex').toUpperCase();
}

/**
 * Whether `signature` (hex, either case) is Hop's signature of `rawBody` under one of the
 * secrets. The comparison is constant-time; anything but 64 hex characters is refused
 * without computing a digest.
 */
export function verifyHopSignature(
  rawBody: HopRawBody,
  signature: string | null | undefined,
  secretOrSecrets: HopSecrets,
): boolean {
  const secrets = normalizeHopSecrets(secretOrSecrets, 'secretOrSecrets');
  const expected = hexDigest(signature);
  return expected !== undefined && signatureMatches(rawBody, expected, secrets);
}

/**
 * Reads a signature header value into its 32 bytes, or says why it cannot be one.
 * @internal
 */
export function decodeHopSignature(header: unknown): Buffer {
  if (header === undefined || header === null || header === '') {
    throw new HopSignatureError('signature_missing', 'X-Hop-Hooks-Signature header is missing');
  }
  const signature = hexDigest(header);
  if (signature === undefined) {
    throw new HopSignatureError(
      'signature_malformed',
      'X-Hop-Hooks-Signature must be one value of 64 hexadecimal characters',
    );
  }
  return signature;
}

/** The 32 bytes of a 64-character hex string (either case), or `undefined` for anything else. */
function hexDigest(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length !== 64) return undefined;
  // Node stops decoding hex at the first character that is not a hex digit, so a shorter
  // result means the value was not all hex: no regular expression needed on the hot path.
  const bytes = Buffer.from(value, 'hex');
  return bytes.length === 32 ? bytes : undefined;
}

/**
 * Throws unless `expected` is the signature of `rawBody` under one of `secrets`.
 * @internal
 */
export function assertSignatureMatches(
  rawBody: HopRawBody,
  expected: Buffer,
  keys: readonly HopSigningKey[],
): void {
  if (!signatureMatches(rawBody, expected, keys)) {
    throw new HopSignatureError(
      'signature_mismatch',
      'X-Hop-Hooks-Signature does not match the request body for any configured secret',
    );
  }
}

/**
 * Checks one or several secrets and returns them as a list; names `option` in the error.
 * @internal
 */
export function normalizeHopSecrets(value: unknown, option: string): readonly string[] {
  const secrets: unknown[] = Array.isArray(value) ? value : [value];
  if (secrets.length === 0) {
    throw new HopConfigurationError(
      `\`${option}\` is an empty array: give at least one webhook secret (whsec_…)`,
    );
  }
  secrets.forEach((secret, index) => {
    const name = Array.isArray(value) ? `${option}[${index}]` : option;
    if (secret === undefined || secret === null || secret === '') {
      throw new HopConfigurationError(
        `\`${name}\` is missing: pass the webhook secret (whsec_…) Hop showed when the webhook was created or its secret regenerated`,
      );
    }
    if (typeof secret !== 'string') {
      throw new HopConfigurationError(`\`${name}\` must be a string, got ${typeof secret}`);
    }
    if (secret.trim() !== secret) {
      // A trailing newline from an env file would silently make every delivery fail with 401.
      throw new HopConfigurationError(
        `\`${name}\` has leading or trailing whitespace: trim it, Hop signs with the exact secret`,
      );
    }
    if (secret.includes('*')) {
      throw new HopConfigurationError(
        `\`${name}\` is masked with '*' (as Hop lists webhooks): use the full secret shown at creation or after regenerating it`,
      );
    }
  });
  return secrets as string[];
}

/**
 * The HMAC key of a checked secret (its UTF-8 bytes, as Hop keys it), made once for a
 * receiver that verifies many deliveries with it.
 * @internal
 */
export function hopSigningKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

function signatureMatches(
  rawBody: HopRawBody,
  expected: Buffer,
  keys: readonly HopSigningKey[],
): boolean {
  let matched = false;
  // Every secret is tried so the time taken does not tell which one matched.
  for (const key of keys) {
    if (timingSafeEqual(hmac(rawBody, key), expected)) matched = true;
  }
  return matched;
}

function hmac(rawBody: HopRawBody, key: HopSigningKey): Buffer {
  return createHmac('sha256', key).update(rawBody).digest();
}
