import type { HopEventDataMap } from './event-data.types.js';
import type { HopEventName } from './events.catalog.js';

/** The JSON envelope Hop posts for every event. */
export interface HopEventEnvelope<N extends string, D> {
  /** Unique per event (`event_…`): the same id arrives again when Hop retries a delivery. */
  readonly id: string;
  /** The event name, e.g. `ignite.deployment.build.updated`. */
  readonly event: N;
  /** The webhook that delivered it (`webhook_…`). */
  readonly webhook_id: string;
  /** The project it happened in (`project_…`). */
  readonly project_id: string;
  /** When it happened, ISO-8601. */
  readonly occurred_at: string;
  /** The event's payload; its shape depends on `event`. */
  readonly data: D;
}

/**
 * A verified Hop event. `HopEvent<'ignite.deployment.build.updated'>` has `data` typed as a
 * build; the default, `HopEvent`, is the union of every catalog event, narrowed by checking
 * `event.event`. Names outside the catalog (Hop adds events) carry `data: unknown`.
 */
export type HopEvent<N extends string = HopEventName> = N extends HopEventName
  ? HopEventEnvelope<N, HopEventDataMap[N]>
  : HopEventEnvelope<N, unknown>;

type DottedPrefixes<S extends string> = S extends `${infer Head}.${infer Rest}`
  ? Head | `${Head}.${DottedPrefixes<Rest>}`
  : never;

/**
 * A wildcard over event names: `*` alone (or `**`) is every event; in a longer pattern `*`
 * stands for one dot-separated segment and `**` for one or more, e.g. `ignite.deployment.*`
 * (deployment created/updated/deleted) or `ignite.**` (every Ignite event).
 */
export type HopEventWildcard =
  '*' | '**' | `${DottedPrefixes<HopEventName>}.*` | `${DottedPrefixes<HopEventName>}.**`;

/** What `@OnHopEvent` takes: a catalog name or a wildcard. */
export type HopEventPattern = HopEventName | HopEventWildcard;
