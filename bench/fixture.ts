import { HOP_SIGNATURE_HEADER, signHopPayload } from 'nestjs-hop-webhooks';
import { buildHopEvent, hopEventExampleData } from 'nestjs-hop-webhooks/testing';

/** The one secret every server under test is configured with. */
export const SECRET = 'whsec_YmVuY2htYXJrLXNlY3JldC1mb3ItbmVzdGpzLWhvcC13ZWJob29rcw';

/** Where every server receives the delivery (the module's default route). */
export const WEBHOOK_PATH = '/hop/webhook';

export const SIGNATURE_HEADER = HOP_SIGNATURE_HEADER;

/**
 * How many distinct deliveries the load cycles through: more event ids than the module's
 * default idempotency store remembers (10,000), so that every delivery is new to it and runs
 * the handler, as Hop's deliveries do (a repeated id would be acknowledged as a duplicate).
 */
export const DELIVERY_POOL_SIZE = 50_000;

/** A signed delivery, ready to post. */
export interface BenchDelivery {
  readonly body: string;
  /** The same bytes, for the load generator. */
  readonly bodyBytes: Buffer;
  readonly signature: string;
  readonly headers: Readonly<Record<string, string>>;
}

// Hop's ids are a prefix and a base64-encoded 18-digit number; counting up from this one keeps
// every id (and so every body) the same length.
const FIRST_EVENT_NUMBER = 193_506_457_503_768_577n;

/**
 * A realistic `ignite.deployment.build.updated` event of about 490 bytes: a CLI build that has
 * just started, every field of a build present but no repository metadata (Hop's ids alone
 * keep it from getting much closer to 400 bytes). Fixed times, so every run posts the same
 * bytes.
 */
function benchEvent(): object {
  const example = hopEventExampleData('ignite.deployment.build.updated');
  return buildHopEvent('ignite.deployment.build.updated', {
    occurred_at: '2026-03-14T09:21:12.004Z',
    data: {
      id: example.id,
      deployment_id: example.deployment_id,
      state: 'pending',
      method: 'cli',
      metadata: null,
      started_at: '2026-03-14T09:21:11.958Z',
      finished_at: null,
      digest: null,
      environment: null,
      validation_failure: null,
    },
  });
}

function eventId(sequence: number): string {
  const digits = (FIRST_EVENT_NUMBER + BigInt(sequence)).toString();
  return `event_${Buffer.from(digits).toString('base64')}`;
}

function signed(event: object, sequence: number): BenchDelivery {
  const body = JSON.stringify({ ...event, id: eventId(sequence) });
  const signature = signHopPayload(body, SECRET);
  return {
    body,
    bodyBytes: Buffer.from(body, 'utf8'),
    signature,
    headers: { 'content-type': 'application/json', [HOP_SIGNATURE_HEADER]: signature },
  };
}

/** The benchmark's delivery (event number 0): what the checks and the micro-benchmark use. */
export function benchDelivery(): BenchDelivery {
  return signed(benchEvent(), 0);
}

/** `count` deliveries of the same event under distinct ids (numbers 1 to `count`). */
export function benchDeliveries(count: number = DELIVERY_POOL_SIZE): BenchDelivery[] {
  const event = benchEvent();
  return Array.from({ length: count }, (_, index) => signed(event, index + 1));
}
