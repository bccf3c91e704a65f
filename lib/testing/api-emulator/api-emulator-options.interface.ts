import type { HopEmulatorRequest } from './emulator.types.js';

/** Options of {@link HopApiEmulator.start}. */
export interface HopApiEmulatorOptions {
  /** Port on 127.0.0.1; `0` (the default) picks a free one, read it back from `url`. */
  port?: number;
  /**
   * The only tokens accepted in `Authorization`. Without it, any well-formed token is
   * accepted: `ptk_`, `pat_` or `bearer_` followed by letters, digits, `_` or `-`.
   */
  tokens?: readonly string[];
  /** How long each delivery of {@link HopApiEmulator.emit} may take to be answered. Default 10 000 ms. */
  deliveryTimeoutMs?: number;
  /** Called after each API request (`/v1/…`) is answered, e.g. to print it. Never sees the token. */
  onRequest?: (request: HopEmulatorRequest) => void;
}

/** Options of {@link HopApiEmulator.emit}. */
export interface HopEmulatorEmitOptions {
  /** Deliver only to this project's webhooks; by default every project's subscribed webhooks. */
  projectId?: string;
}

/** Options of {@link HopApiEmulator.failNext}. */
export interface HopEmulatorFailureOptions {
  /** Sent as the `Retry-After` header, in whole seconds. */
  retryAfterSeconds?: number;
  /** The error envelope's `code`; by default derived from the status (`rate_limited` for 429, …). */
  code?: string;
  /** The error envelope's `message`. */
  message?: string;
}
