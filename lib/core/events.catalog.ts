/**
 * Every event Hop is known to send: the 30 in Hop's documentation and the 3 more that
 * Hop's own SDK knows (`ignite.deployment.build.completed`, `.failed`, `.cancelled`).
 *
 * Hop adds events over time, so names outside this list still reach `*` handlers: the
 * catalog types them and checks decorator names, it never rejects a delivery.
 */
export const HOP_EVENTS = [
  { id: 'ignite.deployment.created', name: 'Deployment Created', group: 'ignite' },
  { id: 'ignite.deployment.updated', name: 'Deployment Updated', group: 'ignite' },
  { id: 'ignite.deployment.deleted', name: 'Deployment Deleted', group: 'ignite' },
  { id: 'ignite.deployment.build.created', name: 'Build Created', group: 'ignite' },
  { id: 'ignite.deployment.build.started', name: 'Build Started', group: 'ignite' },
  { id: 'ignite.deployment.build.updated', name: 'Build Updated', group: 'ignite' },
  { id: 'ignite.deployment.build.completed', name: 'Build Completed', group: 'ignite' },
  { id: 'ignite.deployment.build.failed', name: 'Build Failed', group: 'ignite' },
  { id: 'ignite.deployment.build.cancelled', name: 'Build Cancelled', group: 'ignite' },
  { id: 'ignite.deployment.rollout.created', name: 'Rollout Created', group: 'ignite' },
  { id: 'ignite.deployment.rollout.updated', name: 'Rollout Updated', group: 'ignite' },
  { id: 'ignite.deployment.container.created', name: 'Container Created', group: 'ignite' },
  { id: 'ignite.deployment.container.updated', name: 'Container Updated', group: 'ignite' },
  {
    id: 'ignite.deployment.container.metrics_update',
    name: 'Container Metrics Update',
    group: 'ignite',
  },
  { id: 'ignite.deployment.container.deleted', name: 'Container Deleted', group: 'ignite' },
  { id: 'ignite.deployment.healthcheck.created', name: 'Healthcheck Created', group: 'ignite' },
  { id: 'ignite.deployment.healthcheck.updated', name: 'Healthcheck Updated', group: 'ignite' },
  { id: 'ignite.deployment.healthcheck.deleted', name: 'Healthcheck Deleted', group: 'ignite' },
  {
    id: 'ignite.deployment.healthcheck.events.failed',
    name: 'Healthcheck Events Failed',
    group: 'ignite',
  },
  {
    id: 'ignite.deployment.healthcheck.events.succeeded',
    name: 'Healthcheck Events Succeeded',
    group: 'ignite',
  },
  { id: 'ignite.deployment.gateway.created', name: 'Gateway Created', group: 'ignite' },
  { id: 'ignite.deployment.gateway.updated', name: 'Gateway Updated', group: 'ignite' },
  { id: 'ignite.deployment.gateway.deleted', name: 'Gateway Deleted', group: 'ignite' },
  { id: 'project.updated', name: 'Updated', group: 'project' },
  { id: 'project.member.created', name: 'Member Created', group: 'project' },
  { id: 'project.member.updated', name: 'Member Updated', group: 'project' },
  { id: 'project.member.deleted', name: 'Member Deleted', group: 'project' },
  { id: 'project.tokens.created', name: 'Token Created', group: 'project' },
  { id: 'project.tokens.deleted', name: 'Token Deleted', group: 'project' },
  { id: 'project.secrets.created', name: 'Secret Created', group: 'project' },
  { id: 'project.secrets.updated', name: 'Secret Updated', group: 'project' },
  { id: 'project.secrets.deleted', name: 'Secret Deleted', group: 'project' },
  { id: 'project.finance.transaction', name: 'Finance Transaction', group: 'project' },
] as const satisfies readonly HopEventDefinition[];

/** One entry of {@link HOP_EVENTS}. */
export interface HopEventDefinition {
  /** The name Hop puts in the `event` field, e.g. `ignite.deployment.build.updated`. */
  readonly id: string;
  /** The display name Hop's console shows. */
  readonly name: string;
  /** The product the event belongs to. */
  readonly group: 'ignite' | 'project';
}

/** The name of an event in {@link HOP_EVENTS}: a typo in a handler's name is a compile error. */
export type HopEventName = (typeof HOP_EVENTS)[number]['id'];

const KNOWN_EVENT_NAMES: ReadonlySet<string> = new Set(HOP_EVENTS.map((event) => event.id));

/** Whether `name` is one of the events in {@link HOP_EVENTS}. */
export function isHopEventName(name: string): name is HopEventName {
  return KNOWN_EVENT_NAMES.has(name);
}
