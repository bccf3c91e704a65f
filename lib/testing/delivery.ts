import { randomInt } from 'node:crypto';
import type { HopEventDataMap } from '../core/event-data.types.js';
import type { HopEvent } from '../core/event.types.js';
import { isHopEventName, type HopEventName } from '../core/events.catalog.js';
import { HOP_SIGNATURE_HEADER, signHopPayload } from '../core/signature.js';
import { hopEventExampleData } from './event-examples.js';

/** Fields of a test event that differ from the defaults of {@link buildHopEvent}. */
export interface HopEventOverrides<D> {
  id?: string;
  data?: D;
  webhook_id?: string;
  project_id?: string;
  occurred_at?: string;
}

/** A signed delivery, ready to `POST`. */
export interface HopDelivery {
  /** The exact bytes that were signed, as a string. */
  readonly body: string;
  readonly headers: {
    readonly 'content-type': 'application/json';
    readonly [HOP_SIGNATURE_HEADER]: string;
  };
}

/**
 * A Hop event in the envelope Hop sends: a fresh `event_…` id, now as `occurred_at`, and the
 * realistic example `data` of that event unless `overrides.data` is given.
 */
export function buildHopEvent<N extends HopEventName>(
  name: N,
  overrides?: HopEventOverrides<HopEventDataMap[N]>,
): HopEvent<N>;
export function buildHopEvent(
  name: string,
  overrides?: HopEventOverrides<unknown>,
): HopEvent<string>;
export function buildHopEvent(
  name: string,
  overrides: HopEventOverrides<unknown> = {},
): HopEvent<string> {
  return {
    id: overrides.id ?? hopId('event'),
    event: name,
    webhook_id: overrides.webhook_id ?? 'webhook_MTkzMDU5MTE4NzcyNDA0MjI3',
    project_id: overrides.project_id ?? 'project_MTY1MjU5NTk1NTAwNTY4NTc3',
    occurred_at: overrides.occurred_at ?? new Date().toISOString(),
    data:
      'data' in overrides ? overrides.data : isHopEventName(name) ? hopEventExampleData(name) : {},
  };
}

/** Serialises `event` and signs the bytes with `secret`, as Hop does. */
export function signHopDelivery(event: object | string, secret: string): HopDelivery {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [HOP_SIGNATURE_HEADER]: signHopPayload(body, secret),
    },
  };
}

/**
 * Posts `event`, signed with `secret`, to `url` (the app's webhook route) and returns the
 * response: the shortest way to drive a handler end to end in a test.
 */
export function postHopEvent(
  url: string | URL,
  event: object | string,
  secret: string,
): Promise<Response> {
  const { body, headers } = signHopDelivery(event, secret);
  return fetch(url, { method: 'POST', body, headers });
}

/** An id in Hop's style: a prefix and a base64-encoded 18-digit number. */
export function hopId(prefix: string): string {
  const digits = `${randomInt(100_000_000, 999_999_999)}${randomInt(100_000_000, 999_999_999)}`;
  return `${prefix}_${Buffer.from(digits).toString('base64')}`;
}
