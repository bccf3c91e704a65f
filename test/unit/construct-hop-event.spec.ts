import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { constructHopEvent } from '../../lib/core/event.parser.js';
import { signHopPayload } from '../../lib/core/signature.js';
import {
  HopConfigurationError,
  HopPayloadError,
  HopSignatureError,
  HopWebhookError,
} from '../../lib/core/errors.js';
import { thrownBy } from '../src/thrown-by.js';

const SECRET = 'whsec_Y29uc3RydWN0LWhvcC1ldmVudC1zcGVj';
const OTHER_SECRET = 'whsec_YW5vdGhlci1zZWNyZXQ';

const EVENT = {
  id: 'event_MTkzMzkwODU2OTQwODkyMjgx',
  event: 'ignite.deployment.build.updated',
  webhook_id: 'webhook_MTkzMDU5MTE4NzcyNDA0MjI3',
  project_id: 'project_MTY1MjU5NTk1NTAwNTY4NTc3',
  occurred_at: '2026-03-14T09:22:03.318Z',
  data: { id: 'build_MTkz', deployment_id: 'deployment_MTkz', state: 'pending' },
};

/** Serialises `body` (unless it is already text) and signs it with `secret`, as Hop does. */
function signed(body: unknown, secret = SECRET): { raw: string; signature: string } {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return { raw, signature: signHopPayload(raw, secret) };
}

/** Runs constructHopEvent on a correctly signed `body` and returns what it threw. */
function refusalOf(body: unknown): HopWebhookError {
  const { raw, signature } = signed(body);
  return thrownBy(() => constructHopEvent(raw, signature, SECRET)) as HopWebhookError;
}

function without<K extends keyof typeof EVENT>(...fields: K[]): Omit<typeof EVENT, K> {
  const copy: Partial<typeof EVENT> = { ...EVENT };
  for (const field of fields) delete copy[field];
  return copy as Omit<typeof EVENT, K>;
}

describe('constructHopEvent', () => {
  describe('a correctly signed delivery', () => {
    it('returns the parsed event from a string body', () => {
      const { raw, signature } = signed(EVENT);

      expect(constructHopEvent(raw, signature, SECRET)).toStrictEqual(EVENT);
    });

    it('returns the parsed event from a Buffer body', () => {
      const { raw, signature } = signed(EVENT);

      expect(constructHopEvent(Buffer.from(raw), signature, SECRET)).toStrictEqual(EVENT);
    });

    it('returns the parsed event from a Uint8Array body', () => {
      const { raw, signature } = signed(EVENT);

      expect(constructHopEvent(new TextEncoder().encode(raw), signature, SECRET)).toStrictEqual(
        EVENT,
      );
    });

    it('decodes a Buffer body as UTF-8', () => {
      const event = { ...EVENT, data: { name: 'déploiement 日本 🚀' } };
      const { raw, signature } = signed(event);

      expect(constructHopEvent(Buffer.from(raw, 'utf8'), signature, SECRET)).toStrictEqual(event);
    });

    it('accepts a lower-case signature', () => {
      const { raw, signature } = signed(EVENT);

      expect(constructHopEvent(raw, signature.toLowerCase(), SECRET)).toStrictEqual(EVENT);
    });

    it('accepts a delivery signed with any of several secrets', () => {
      const { raw, signature } = signed(EVENT, OTHER_SECRET);

      expect(constructHopEvent(raw, signature, [SECRET, OTHER_SECRET])).toStrictEqual(EVENT);
    });

    it('lets webhook_id, project_id and occurred_at be absent', () => {
      const minimal = without('webhook_id', 'project_id', 'occurred_at');

      expect(constructHopEvent(signed(minimal).raw, signed(minimal).signature, SECRET)).toEqual(
        minimal,
      );
    });
  });

  describe('unknown event names pass through', () => {
    it.each([
      'ignite.deployment.volume.created',
      'billing.invoice.paid',
      'channels.created',
      'x',
      'ignite.deployment.build-step_2.updated',
    ])('%s', (name) => {
      const event = { ...EVENT, event: name, data: { anything: [1, 'two', null] } };
      const { raw, signature } = signed(event);

      expect(constructHopEvent(raw, signature, SECRET)).toStrictEqual(event);
    });
  });

  describe('signature_missing', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['an empty string', ''],
    ])('is a HopSignatureError when the header is %s', (_case, header) => {
      const error = thrownBy(() => constructHopEvent(signed(EVENT).raw, header, SECRET));

      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toBeInstanceOf(HopWebhookError);
      expect(error).toMatchObject({ name: 'HopSignatureError', code: 'signature_missing' });
      expect(error.message).toMatch(/X-Hop-Hooks-Signature header is missing/);
    });
  });

  describe('signature_malformed', () => {
    const { raw, signature } = signed(EVENT);

    it.each([
      ['not hex', 'not-a-signature'],
      ['63 hex characters', signature.slice(0, 63)],
      ['65 hex characters', `${signature}A`],
      ['a non-hex character', `${signature.slice(0, 63)}g`],
      ['padded with a space', ` ${signature}`],
      ['two header values joined by a comma', `${signature}, ${signature}`],
    ])('is a HopSignatureError when the header is %s', (_case, header) => {
      const error = thrownBy(() => constructHopEvent(raw, header, SECRET));

      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toMatchObject({ code: 'signature_malformed' });
      expect(error.message).toMatch(/64 hexadecimal characters/);
    });

    it.each([
      ['an array of header values', [signature]],
      ['a number', 42],
      ['a Buffer of the digest', Buffer.from(signature, 'hex')],
    ])('is a HopSignatureError when the header is %s', (_case, header) => {
      const error = thrownBy(() => constructHopEvent(raw, header as unknown as string, SECRET));

      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toMatchObject({ code: 'signature_malformed' });
    });
  });

  describe('signature_mismatch', () => {
    it('is a HopSignatureError when the delivery was signed with another secret', () => {
      const { raw, signature } = signed(EVENT, OTHER_SECRET);

      const error = thrownBy(() => constructHopEvent(raw, signature, SECRET));

      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toMatchObject({ name: 'HopSignatureError', code: 'signature_mismatch' });
      expect(error.message).toMatch(/does not match the request body/);
    });

    it('is a HopSignatureError when none of several secrets signed the delivery', () => {
      const { raw, signature } = signed(EVENT, 'whsec_a_third_secret');

      const error = thrownBy(() => constructHopEvent(raw, signature, [SECRET, OTHER_SECRET]));

      expect(error).toMatchObject({ code: 'signature_mismatch' });
    });

    it('is a HopSignatureError when the body was re-serialised after signing', () => {
      const { raw, signature } = signed(JSON.stringify(EVENT, null, '\t'));

      const error = thrownBy(() =>
        constructHopEvent(JSON.stringify(JSON.parse(raw)), signature, SECRET),
      );

      expect(error).toMatchObject({ code: 'signature_mismatch' });
    });

    it('is checked before the body is parsed: an unsigned non-JSON body is a signature error', () => {
      const { signature } = signed('this is not json', OTHER_SECRET);

      const error = thrownBy(() => constructHopEvent('this is not json', signature, SECRET));

      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toMatchObject({ code: 'signature_mismatch' });
    });
  });

  describe('secrets', () => {
    it('throws HopConfigurationError naming `secretOrSecrets` for a missing secret', () => {
      const { raw, signature } = signed(EVENT);

      expect(() => constructHopEvent(raw, signature, '')).toThrow(HopConfigurationError);
      expect(() => constructHopEvent(raw, signature, '')).toThrow(/`secretOrSecrets` is missing/);
    });

    it('checks the secrets before the signature header', () => {
      const error = thrownBy(() => constructHopEvent(signed(EVENT).raw, undefined, []));

      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toMatch(/`secretOrSecrets` is an empty array/);
    });
  });

  describe('body_not_json', () => {
    it.each([
      ['plain text', 'this is not json'],
      ['an empty body', ''],
      ['truncated JSON', '{"id": "event_MTkz", "event": "project.updated", "data": {'],
      ['JSON with a trailing comma', '{"id": "event_MTkz",}'],
      ['form encoding', 'id=event_MTkz&event=project.updated'],
    ])('is a HopPayloadError for %s', (_case, body) => {
      const error = refusalOf(body);

      expect(error).toBeInstanceOf(HopPayloadError);
      expect(error).toBeInstanceOf(HopWebhookError);
      expect(error).toMatchObject({ name: 'HopPayloadError', code: 'body_not_json' });
      expect(error.message).toBe('Hop event body is not valid JSON');
    });
  });

  describe('envelope_invalid', () => {
    it.each([
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"ignite.deployment.build.updated"'],
      ['a boolean', 'true'],
      ['an empty array', '[]'],
      ['an array holding the event', JSON.stringify([EVENT])],
    ])('is a HopPayloadError when the body is %s, not an object', (_case, body) => {
      const error = refusalOf(body);

      expect(error).toBeInstanceOf(HopPayloadError);
      expect(error).toMatchObject({ name: 'HopPayloadError', code: 'envelope_invalid' });
      expect(error.message).toMatch(/must be a JSON object/);
    });

    it.each(['id', 'event', 'data'] as const)(
      'names `%s` when the envelope lacks it, and only it',
      (field) => {
        const error = refusalOf(without(field));

        expect(error).toMatchObject({ code: 'envelope_invalid' });
        expect(error.message).toContain(`\`${field}\``);
        for (const other of ['id', 'event', 'data'].filter((name) => name !== field)) {
          expect(error.message).not.toContain(`\`${other}\``);
        }
      },
    );

    it.each(['id', 'event'] as const)('treats an empty `%s` as missing', (field) => {
      const error = refusalOf({ ...EVENT, [field]: '' });

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toMatch(new RegExp(`lacks \`${field}\``));
    });

    it('names every missing field at once', () => {
      const error = refusalOf({ webhook_id: EVENT.webhook_id });

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toMatch(/lacks `id`, `event`, `data`/);
    });

    it.each([
      ['a number', 1933908569],
      ['an object', { value: 'event_MTkz' }],
      ['null', null],
    ])('refuses an `id` that is %s', (_case, id) => {
      const error = refusalOf({ ...EVENT, id });

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toMatch(/`id` must be a string/);
    });

    it.each([
      'a..b',
      'ignite.*',
      'ignite.**',
      '*',
      '.ignite.deployment.created',
      'ignite.deployment.created.',
      'ignite deployment created',
      'ignite/deployment/created',
    ])('refuses the event name %j', (name) => {
      const error = refusalOf({ ...EVENT, event: name });

      expect(error).toBeInstanceOf(HopPayloadError);
      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toMatch(/`event` must be a dot-separated name/);
    });

    it.each([
      ['a number', 42],
      ['an array', ['ignite.deployment.build.updated']],
    ])('refuses an `event` that is %s', (_case, event) => {
      const error = refusalOf({ ...EVENT, event });

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toMatch(/`event`/);
    });

    it.each([
      ['webhook_id', 1930591187],
      ['webhook_id', null],
      ['project_id', { id: 'project_MTY1' }],
      ['occurred_at', 1696261573323],
    ])('refuses a non-string `%s` (%j), naming it', (field, value) => {
      const error = refusalOf({ ...EVENT, [field]: value });

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expect(error.message).toBe(`Hop event \`${field}\` must be a string`);
    });
  });

  describe('error messages never contain the body or the secret', () => {
    // Short, so that JSON.parse's own message quotes it in full.
    const MARKER = 'zqmark7';
    const markedSecret = `whsec_${MARKER}`;

    function expectNoLeak(error: Error): void {
      expect(error).toBeInstanceOf(Error);
      for (const text of [error.message, error.stack ?? '', inspect(error)]) {
        expect(text).not.toContain(MARKER);
        expect(text).not.toContain(markedSecret);
      }
    }

    it('for invalid JSON (whose JSON.parse message would quote the body)', () => {
      const body = `${MARKER} {}`;
      expect(() => JSON.parse(body)).toThrow(MARKER);

      const error = thrownBy(() =>
        constructHopEvent(body, signHopPayload(body, markedSecret), markedSecret),
      );

      expect(error).toMatchObject({ code: 'body_not_json' });
      expectNoLeak(error);
    });

    it('for a body that is a bare string', () => {
      const body = JSON.stringify(MARKER);

      const error = thrownBy(() =>
        constructHopEvent(body, signHopPayload(body, markedSecret), markedSecret),
      );

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expectNoLeak(error);
    });

    it.each([
      ['an invalid event name', { ...EVENT, event: `${MARKER}..x` }],
      ['a non-string webhook_id', { ...EVENT, webhook_id: [MARKER] }],
      ['a missing id', { event: EVENT.event, data: { note: MARKER } }],
    ])('for an envelope with %s', (_case, event) => {
      const body = JSON.stringify(event);

      const error = thrownBy(() =>
        constructHopEvent(body, signHopPayload(body, markedSecret), markedSecret),
      );

      expect(error).toMatchObject({ code: 'envelope_invalid' });
      expectNoLeak(error);
    });

    it('for a signature mismatch', () => {
      const body = JSON.stringify({ ...EVENT, data: { note: MARKER } });

      const error = thrownBy(() =>
        constructHopEvent(body, signHopPayload(body, OTHER_SECRET), markedSecret),
      );

      expect(error).toMatchObject({ code: 'signature_mismatch' });
      expectNoLeak(error);
    });

    it('for a whitespace-padded or masked secret', () => {
      const body = JSON.stringify(EVENT);

      expectNoLeak(thrownBy(() => constructHopEvent(body, 'A'.repeat(64), `${markedSecret} `)));
      expectNoLeak(thrownBy(() => constructHopEvent(body, 'A'.repeat(64), `${markedSecret}***`)));
    });
  });
});
