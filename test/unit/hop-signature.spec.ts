import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constructHopEvent, parseHopEvent } from '../../lib/core/event.parser.js';
import {
  normalizeHopSecrets,
  signHopPayload,
  verifyHopSignature,
} from '../../lib/core/signature.js';
import { HopConfigurationError, HopSignatureError } from '../../lib/core/errors.js';
import { DOCUMENTED_BODY, DOCUMENTED_SIGNATURE } from './hop-docs-example.js';
import { thrownBy } from '../src/thrown-by.js';

const SECRET = 'whsec_c2VjcmV0LWZvci11bml0LXRlc3Rz';
const OTHER_SECRET = 'whsec_b3RoZXItc2VjcmV0LWZvci10ZXN0cw';
const BODY = '{"id":"event_MTkz","event":"ignite.deployment.build.updated","data":{}}';
const HEX_DIGITS = '0123456789ABCDEF';

/** HMAC-SHA256 of `body` computed here, independently of the code under test. */
function hmacHex(body: string | Uint8Array, key: string | Buffer): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

/** What a function threw, so that its class, code and message can be checked. */
// Secrets as a user could configure them: non-empty, not padded, not masked with '*'.
const secretArbitrary = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
    fc.string({ minLength: 1, maxLength: 48 }).map((rest) => `whsec_${rest}`),
  )
  .filter((secret) => secret.trim() === secret && !secret.includes('*'));

// `size: 'max'` spreads lengths over the whole 0..2048 range (the default stays below ~10 bytes).
const bodyArbitrary = fc.uint8Array({ minLength: 0, maxLength: 2048, size: 'max' });

describe('signHopPayload', () => {
  it('is the upper-case hex HMAC-SHA256 of the body keyed with the whole secret, whsec_ prefix included', () => {
    expect(signHopPayload(BODY, SECRET)).toBe(hmacHex(BODY, SECRET).toUpperCase());
    expect(signHopPayload(BODY, SECRET)).toMatch(/^[0-9A-F]{64}$/);
  });

  it('signs a string body as its UTF-8 bytes', () => {
    const body = '{"name":"déploiement — 日本語 🚀"}';

    expect(signHopPayload(body, SECRET)).toBe(signHopPayload(Buffer.from(body, 'utf8'), SECRET));
    expect(signHopPayload(body, SECRET)).not.toBe(
      signHopPayload(Buffer.from(body, 'latin1'), SECRET),
    );
  });

  it('signs only the bytes a Uint8Array view covers, not the rest of its ArrayBuffer', () => {
    const backing = Buffer.from(`XXXX${BODY}YYYY`);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, Buffer.byteLength(BODY));

    expect(signHopPayload(view, SECRET)).toBe(hmacHex(BODY, SECRET).toUpperCase());
  });
});

describe('verifyHopSignature', () => {
  describe('round trips', () => {
    it('accepts the signature of a Buffer body', () => {
      const body = Buffer.from(BODY);

      expect(verifyHopSignature(body, signHopPayload(body, SECRET), SECRET)).toBe(true);
    });

    it('accepts the signature of a string body', () => {
      expect(verifyHopSignature(BODY, signHopPayload(BODY, SECRET), SECRET)).toBe(true);
    });

    it('accepts the signature of an empty body', () => {
      expect(verifyHopSignature('', signHopPayload('', SECRET), SECRET)).toBe(true);
    });

    it('accepts a non-ASCII body whether it is given as a string or as its UTF-8 bytes', () => {
      const text = '{"msg":"héllo wörld — 日本語 — 🚀"}';
      const bytes = Buffer.from(text, 'utf8');

      expect(verifyHopSignature(text, signHopPayload(bytes, SECRET), SECRET)).toBe(true);
      expect(verifyHopSignature(bytes, signHopPayload(text, SECRET), SECRET)).toBe(true);
    });

    it('refuses a non-ASCII body whose bytes are not its UTF-8 encoding', () => {
      const text = '{"msg":"héllo wörld"}';

      expect(
        verifyHopSignature(Buffer.from(text, 'latin1'), signHopPayload(text, SECRET), SECRET),
      ).toBe(false);
    });

    it('accepts the signature of a Uint8Array body, including a view into a larger buffer', () => {
      const plain = new TextEncoder().encode(BODY);
      const backing = Buffer.from(`XXXX${BODY}YYYY`);
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, plain.length);
      const signature = hmacHex(BODY, SECRET).toUpperCase();

      expect(verifyHopSignature(plain, signature, SECRET)).toBe(true);
      expect(verifyHopSignature(view, signature, SECRET)).toBe(true);
    });

    it('refuses a body that was re-serialised after parsing', () => {
      const raw = '{\n\t"id": "event_MTkz",\n\t"event": "project.updated",\n\t"data": {}\n}';
      const reserialised = JSON.stringify(JSON.parse(raw));

      expect(verifyHopSignature(reserialised, signHopPayload(raw, SECRET), SECRET)).toBe(false);
    });
  });

  describe('the key is the whole secret string', () => {
    it('accepts an HMAC keyed with the secret including its whsec_ prefix', () => {
      expect(verifyHopSignature(BODY, hmacHex(BODY, SECRET), SECRET)).toBe(true);
    });

    it('refuses an HMAC keyed with the secret without its whsec_ prefix', () => {
      const withoutPrefix = SECRET.slice('whsec_'.length);

      expect(verifyHopSignature(BODY, hmacHex(BODY, withoutPrefix), SECRET)).toBe(false);
    });

    it('refuses an HMAC keyed with the base64-decoded part after whsec_', () => {
      const decoded = Buffer.from(SECRET.slice('whsec_'.length), 'base64');

      expect(verifyHopSignature(BODY, hmacHex(BODY, decoded), SECRET)).toBe(false);
    });

    it('refuses a signature made with another secret', () => {
      expect(verifyHopSignature(BODY, signHopPayload(BODY, OTHER_SECRET), SECRET)).toBe(false);
    });
  });

  describe('hex case', () => {
    const upper = hmacHex(BODY, SECRET).toUpperCase();

    it('accepts upper-case hex, as Hop sends it', () => {
      expect(verifyHopSignature(BODY, upper, SECRET)).toBe(true);
    });

    it('accepts lower-case hex', () => {
      expect(verifyHopSignature(BODY, upper.toLowerCase(), SECRET)).toBe(true);
    });

    it('accepts mixed-case hex', () => {
      const mixed = [...upper]
        .map((char, index) => (index % 2 === 0 ? char.toLowerCase() : char))
        .join('');
      expect(mixed).not.toBe(upper);
      expect(mixed).not.toBe(upper.toLowerCase());

      expect(verifyHopSignature(BODY, mixed, SECRET)).toBe(true);
    });
  });

  describe('several secrets (rotation)', () => {
    const secrets = [OTHER_SECRET, SECRET];

    it('accepts a delivery signed with the first secret of the list', () => {
      expect(verifyHopSignature(BODY, signHopPayload(BODY, OTHER_SECRET), secrets)).toBe(true);
    });

    it('accepts a delivery signed with the last secret of the list', () => {
      expect(verifyHopSignature(BODY, signHopPayload(BODY, SECRET), secrets)).toBe(true);
    });

    it('refuses a delivery signed with none of the secrets', () => {
      const signature = signHopPayload(BODY, 'whsec_a_third_secret');

      expect(verifyHopSignature(BODY, signature, secrets)).toBe(false);
    });

    it('accepts a one-element list like the bare secret', () => {
      expect(verifyHopSignature(BODY, signHopPayload(BODY, SECRET), [SECRET])).toBe(true);
    });
  });

  describe('malformed signatures are refused without throwing', () => {
    // Built from the valid signature, so that only the format check can refuse them.
    const valid = signHopPayload(BODY, SECRET);

    it.each([
      ['a non-hex letter in place of the last digit', `${valid.slice(0, 63)}G`],
      ['a non-hex letter in place of the first digit', `Z${valid.slice(1)}`],
      ['a 0x prefix replacing the first two digits', `0x${valid.slice(2)}`],
      ['63 characters', valid.slice(0, 63)],
      ['65 characters', `${valid}0`],
      ['128 characters (the signature twice)', `${valid}${valid}`],
      ['0 characters', ''],
      ['a leading space', ` ${valid}`],
      ['a trailing space', `${valid} `],
      ['a trailing newline', `${valid}\n`],
      ['a sha256= scheme prefix', `sha256=${valid}`],
      ['the base64 of the digest', Buffer.from(valid, 'hex').toString('base64')],
    ])('refuses %s', (_case, signature) => {
      expect(verifyHopSignature(BODY, signature, SECRET)).toBe(false);
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['the digest bytes as a Buffer', Buffer.from(valid, 'hex')],
      ['an array holding the signature', [valid]],
      ['a String object wrapping the signature', new String(valid)],
      ['a number', 42],
    ])('refuses a non-string signature: %s', (_case, signature) => {
      expect(verifyHopSignature(BODY, signature as unknown as string, SECRET)).toBe(false);
    });
  });

  describe('properties', () => {
    it('a signature verifies its body, and no single-byte change to the body verifies', () => {
      fc.assert(
        fc.property(
          bodyArbitrary,
          secretArbitrary,
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          (body, secret, position, flip) => {
            const signature = signHopPayload(body, secret);
            expect(signature).toBe(hmacHex(body, secret).toUpperCase());
            expect(verifyHopSignature(body, signature, secret)).toBe(true);
            if (body.length === 0) return;

            // XOR with 1..255 reaches every other value of that byte, never the same one.
            const changed = Uint8Array.from(body);
            changed[position % body.length] ^= flip;
            expect(verifyHopSignature(changed, signature, secret)).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('no single-character change of the signature to another hex digit verifies', () => {
      fc.assert(
        fc.property(
          bodyArbitrary,
          secretArbitrary,
          fc.boolean(),
          fc.integer({ min: 0, max: 63 }),
          fc.integer({ min: 1, max: 15 }),
          fc.boolean(),
          (body, secret, sentLowerCase, position, shift, replacementLowerCase) => {
            const signed = signHopPayload(body, secret);
            const signature = sentLowerCase ? signed.toLowerCase() : signed;
            expect(verifyHopSignature(body, signature, secret)).toBe(true);

            // Another digit value (shift 1..15), in either case: never the same digit re-cased.
            const digit = HEX_DIGITS[(parseInt(signature[position], 16) + shift) % 16];
            const replacement = replacementLowerCase ? digit.toLowerCase() : digit;
            const tampered =
              signature.slice(0, position) + replacement + signature.slice(position + 1);
            expect(tampered).toHaveLength(64);
            expect(tampered.toUpperCase()).not.toBe(signed);
            expect(verifyHopSignature(body, tampered, secret)).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('a signature verifies against any list of secrets that contains its secret', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 256 }),
          fc.uniqueArray(secretArbitrary, { minLength: 1, maxLength: 5 }),
          fc.nat(),
          (body, secrets, pick) => {
            const signature = signHopPayload(body, secrets[pick % secrets.length]);
            expect(verifyHopSignature(body, signature, secrets)).toBe(true);
            expect(verifyHopSignature(body, signature, `${secrets.join('')}x`)).toBe(false);
          },
        ),
      );
    });
  });

  describe("Hop's documented example delivery", () => {
    it('has a signature header in the accepted format: it is checked against the body, not refused as malformed', () => {
      const unknownSecret = `whsec_${randomBytes(24).toString('base64url')}`;

      expect(Buffer.from(DOCUMENTED_SIGNATURE, 'hex')).toHaveLength(32);
      expect(() =>
        verifyHopSignature(DOCUMENTED_BODY, DOCUMENTED_SIGNATURE, unknownSecret),
      ).not.toThrow();
      expect(verifyHopSignature(DOCUMENTED_BODY, DOCUMENTED_SIGNATURE, unknownSecret)).toBe(false);
      // The secret is unknown, so the value must fail as a mismatch, never as malformed.
      const error = thrownBy(() =>
        constructHopEvent(DOCUMENTED_BODY, DOCUMENTED_SIGNATURE, unknownSecret),
      );
      expect(error).toBeInstanceOf(HopSignatureError);
      expect(error).toMatchObject({ code: 'signature_mismatch' });
    });

    it('has a body that parses with every envelope field and the metrics_update data intact', () => {
      const expected = {
        webhook_id: 'webhook_MTkzMDU5MTE4NzcyNDA0MjI3',
        project_id: 'project_MTY1MjU5NTk1NTAwNTY4NTc3',
        occurred_at: '2023-10-02T15:46:13.323Z',
        id: 'event_MTkzMzkwODU2OTQwODkyMjgx',
        event: 'ignite.deployment.container.metrics_update',
        data: {
          metrics: {
            memory_usage_percent: '0.07',
            memory_usage_bytes: 393216,
            cpu_usage_percent: '0.00',
          },
          container_id: 'container_MTkzMDc3MjExODczMDc5MzAx',
        },
      };

      expect(DOCUMENTED_BODY).toContain('\n\t\t\t"memory_usage_percent": "0.07",\n');
      expect(parseHopEvent(DOCUMENTED_BODY)).toStrictEqual(expected);
      expect(parseHopEvent(Buffer.from(DOCUMENTED_BODY))).toStrictEqual(expected);
    });

    it('verifies when signed with a known secret, byte for byte as documented', () => {
      const signature = hmacHex(DOCUMENTED_BODY, SECRET).toUpperCase();

      expect(verifyHopSignature(Buffer.from(DOCUMENTED_BODY), signature, SECRET)).toBe(true);
      expect(verifyHopSignature(DOCUMENTED_BODY.replaceAll('\t', '  '), signature, SECRET)).toBe(
        false,
      );
    });
  });

  describe('secret validation', () => {
    const signature = signHopPayload(BODY, SECRET);

    it.each([
      ['missing (undefined)', undefined, /`secretOrSecrets` is missing/],
      ['missing (null)', null, /`secretOrSecrets` is missing/],
      ['empty', '', /`secretOrSecrets` is missing/],
      ['a number', 42, /`secretOrSecrets` must be a string, got number/],
      [
        'padded with a trailing newline',
        `${SECRET}\n`,
        /`secretOrSecrets` has leading or trailing whitespace/,
      ],
      [
        'padded with a leading space',
        ` ${SECRET}`,
        /`secretOrSecrets` has leading or trailing whitespace/,
      ],
      [
        'masked with *',
        'whsec_c2Vj************************',
        /`secretOrSecrets` is masked with '\*'/,
      ],
      ['an empty array', [], /`secretOrSecrets` is an empty array/],
      [
        'an array with a masked second entry',
        [SECRET, 'whsec_****'],
        /`secretOrSecrets\[1\]` is masked/,
      ],
      ['an array with an empty first entry', ['', SECRET], /`secretOrSecrets\[0\]` is missing/],
    ])(
      'verifyHopSignature throws HopConfigurationError naming the option when the secret is %s',
      (_case, secret, message) => {
        const error = thrownBy(() => verifyHopSignature(BODY, signature, secret as string));

        expect(error).toBeInstanceOf(HopConfigurationError);
        expect(error.message).toMatch(message);
      },
    );

    it('checks the secret before the signature, so a misconfiguration is not reported as a bad signature', () => {
      expect(() => verifyHopSignature(BODY, 'not a signature', '')).toThrow(HopConfigurationError);
    });

    it('signHopPayload names its own option, `secret`', () => {
      const error = thrownBy(() => signHopPayload(BODY, ` ${SECRET}`));

      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toMatch(/^`secret` has leading or trailing whitespace/);
    });

    it('normalizeHopSecrets names the option it is given, with the index for a list', () => {
      expect(() => normalizeHopSecrets(undefined, 'HOP_WEBHOOK_SECRET')).toThrow(
        /`HOP_WEBHOOK_SECRET` is missing/,
      );
      expect(() => normalizeHopSecrets([SECRET, 7], 'secrets')).toThrow(
        /`secrets\[1\]` must be a string, got number/,
      );
    });

    it('normalizeHopSecrets returns one secret as a list and a list as it is', () => {
      expect(normalizeHopSecrets(SECRET, 'secret')).toEqual([SECRET]);
      expect(normalizeHopSecrets([SECRET, OTHER_SECRET], 'secret')).toEqual([SECRET, OTHER_SECRET]);
    });

    it('never repeats the secret in the error message', () => {
      const padded = `${SECRET}\n`;
      const masked = `${SECRET.slice(0, 12)}****`;

      expect(thrownBy(() => normalizeHopSecrets(padded, 'secret')).message).not.toContain(SECRET);
      expect(thrownBy(() => normalizeHopSecrets(masked, 'secret')).message).not.toContain(
        SECRET.slice(0, 12),
      );
    });
  });
});
