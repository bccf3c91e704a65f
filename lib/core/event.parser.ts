import type { HopEvent } from './event.types.js';
import { HopPayloadError } from './errors.js';
import { readJsonObject } from './checks.js';
import { DOTTED_NAME_FORMAT } from './event-pattern.js';
import {
  assertSignatureMatches,
  decodeHopSignature,
  normalizeHopSecrets,
  type HopRawBody,
  type HopSecrets,
} from './signature.js';

// Dot-separated segments of letters, digits, `_` and `-`, as Hop's event names are (names it
// adds later pass too); refused: wildcards (`*` would match other listeners in
// EventEmitter2), empty segments and white space, which no event name has.
const OPTIONAL_STRING_FIELDS = ['webhook_id', 'project_id', 'occurred_at'] as const;

/**
 * Verifies a delivery's signature, parses its body and checks the envelope, like Hop's
 * `constructEvent` but constant-time and with a typed error that says which step failed:
 * {@link HopSignatureError} (`signature_missing`, `signature_malformed`, `signature_mismatch`)
 * or {@link HopPayloadError} (`body_not_json`, `envelope_invalid`).
 *
 * @param rawBody the body exactly as received (re-serialised JSON has other bytes)
 * @param signature the `X-Hop-Hooks-Signature` header value
 * @param secretOrSecrets the webhook secret, or several during a rotation
 */
export function constructHopEvent(
  rawBody: HopRawBody,
  signature: string | null | undefined,
  secretOrSecrets: HopSecrets,
): HopEvent<string> {
  const secrets = normalizeHopSecrets(secretOrSecrets, 'secretOrSecrets');
  assertSignatureMatches(rawBody, decodeHopSignature(signature), secrets);
  return parseHopEvent(rawBody);
}

/**
 * Parses a body whose signature has already been verified and checks the envelope.
 * @internal
 */
export function parseHopEvent(rawBody: HopRawBody): HopEvent<string> {
  const envelope = readJsonObject(typeof rawBody === 'string' ? rawBody : utf8(rawBody));
  if (envelope === 'not_json') {
    throw new HopPayloadError('body_not_json', 'Hop event body is not valid JSON');
  }
  if (envelope === 'not_object') {
    throw new HopPayloadError('envelope_invalid', 'Hop event body must be a JSON object');
  }
  return checkHopEnvelope(envelope);
}

/**
 * Checks a parsed envelope, as a delivery's is at receipt and a queued job's is again before
 * its handlers run; throws {@link HopPayloadError} (`envelope_invalid`) naming what is wrong.
 * @internal
 */
export function checkHopEnvelope(envelope: Record<string, unknown>): HopEvent<string> {
  const { id, event } = envelope;
  if (
    id === undefined ||
    id === '' ||
    event === undefined ||
    event === '' ||
    envelope.data === undefined
  ) {
    throw missingFields(envelope);
  }
  if (typeof id !== 'string') {
    throw new HopPayloadError('envelope_invalid', 'Hop event `id` must be a string');
  }
  if (typeof event !== 'string' || !DOTTED_NAME_FORMAT.test(event)) {
    throw new HopPayloadError(
      'envelope_invalid',
      'Hop event `event` must be a dot-separated name such as ignite.deployment.build.updated',
    );
  }
  for (const field of OPTIONAL_STRING_FIELDS) {
    const value = envelope[field];
    if (value !== undefined && typeof value !== 'string') {
      throw new HopPayloadError('envelope_invalid', `Hop event \`${field}\` must be a string`);
    }
  }
  return envelope as unknown as HopEvent<string>;
}

function missingFields(envelope: Record<string, unknown>): HopPayloadError {
  const missing = (['id', 'event', 'data'] as const).filter(
    (field) => envelope[field] === undefined || (field !== 'data' && envelope[field] === ''),
  );
  return new HopPayloadError(
    'envelope_invalid',
    `Hop event envelope lacks ${missing.map((field) => `\`${field}\``).join(', ')}`,
  );
}

function utf8(bytes: Buffer | Uint8Array): string {
  // A Buffer decodes in place; a plain Uint8Array is viewed as one without copying.
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('utf8');
}
