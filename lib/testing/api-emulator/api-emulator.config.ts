import { HOP_TOKEN_FORMAT } from '../../api/api.formats.js';
import { isWholeNumber } from '../../core/checks.js';
import type { HopApiEmulatorOptions } from './api-emulator-options.interface.js';
import type { HopEmulatorRequest } from './emulator.types.js';

/** The emulator listens on loopback only: its controls need no token. */
export const EMULATOR_HOST = '127.0.0.1';

const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;

/** The emulator's options, checked once at start, with every default filled in. */
export interface ResolvedApiEmulatorConfig {
  readonly port: number;
  /** `undefined` when any well-formed token is accepted. */
  readonly acceptedTokens?: ReadonlySet<string>;
  readonly deliveryTimeoutMs: number;
  readonly onRequest?: (request: HopEmulatorRequest) => void;
}

/** Checks the options of {@link HopApiEmulator.start}; a message never repeats a token. */
export function resolveApiEmulatorConfig(
  options: HopApiEmulatorOptions,
): ResolvedApiEmulatorConfig {
  const { port, tokens, deliveryTimeoutMs } = options;
  if (port !== undefined && !isWholeNumber(port, 0, 65_535)) {
    throw new RangeError(
      `port must be an integer from 0 to 65535 (0 picks a free port), got ${port}`,
    );
  }
  if (tokens !== undefined) {
    if (!Array.isArray(tokens) || tokens.length === 0) {
      throw new TypeError(
        'tokens must be a non-empty array of tokens; omit it to accept any well-formed token',
      );
    }
    tokens.forEach((token: unknown, index) => {
      // The index, not the value, names the culprit: tokens never appear in messages.
      if (typeof token !== 'string' || !HOP_TOKEN_FORMAT.test(token)) {
        throw new TypeError(
          `tokens[${index}] is not a Hop token: expected ptk_…, pat_… or bearer_… followed by letters, digits, _ or -`,
        );
      }
    });
  }
  if (
    deliveryTimeoutMs !== undefined &&
    (!Number.isFinite(deliveryTimeoutMs) || deliveryTimeoutMs <= 0)
  ) {
    throw new RangeError(`deliveryTimeoutMs must be a positive number, got ${deliveryTimeoutMs}`);
  }
  return {
    port: port ?? 0,
    acceptedTokens: tokens && new Set(tokens),
    deliveryTimeoutMs: deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    onRequest: options.onRequest,
  };
}
