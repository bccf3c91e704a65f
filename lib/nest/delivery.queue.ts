import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { describeError, describeHopEvent } from '../core/errors.js';
import type { HopEvent } from '../core/event.types.js';
import { settleWithin } from '../core/settle-within.js';
import { HopTelemetry, type HopDeliveryTrace } from '../core/telemetry.js';
import { HOP_WEBHOOKS_CONFIG } from './constants.js';
import type { ResolvedHopQueueConfig } from './queue.config.js';
import type { ResolvedHopWebhooksConfig } from './webhooks.config.js';
import type { HopQueueJobData } from './webhooks-options.interface.js';

/**
 * Queue mode's receiving side: a verified event becomes a BullMQ job whose id is the event's,
 * so that a redelivery adds nothing while the job is kept.
 */
@Injectable()
export class HopDeliveryQueue {
  private readonly logger = new Logger('HopWebhooks');

  constructor(
    @Inject(HOP_WEBHOOKS_CONFIG) private readonly config: ResolvedHopWebhooksConfig,
    private readonly telemetry: HopTelemetry,
  ) {}

  /**
   * Resolves once Redis has the event's job (or had it already); rejects with 503, for Hop to
   * retry, when Redis fails or does not answer within `queue.addTimeoutMs`. A job added after
   * that is the one Hop's retry finds.
   */
  async enqueue(
    event: HopEvent<string>,
    settings: ResolvedHopQueueConfig,
    trace: HopDeliveryTrace | undefined,
  ): Promise<void> {
    const { queue, jobOptions, addTimeoutMs } = settings;
    try {
      await settleWithin(
        queue.add(event.event, this.jobData(event, trace), {
          ...jobOptions,
          jobId: hopJobId(event.id),
        }),
        addTimeoutMs,
        `no answer within queue.addTimeoutMs (${addTimeoutMs} ms)`,
      );
    } catch (error) {
      trace?.failed('queue_unavailable');
      this.logger.error(
        `Could not queue ${describeHopEvent(event)}: ${describeError(error)}`,
        (error as Error)?.stack,
      );
      throw new ServiceUnavailableException(
        'The delivery queue is unavailable; Hop will retry this delivery',
      );
    }
    trace?.queued();
    if (this.config.logging === 'deliveries') {
      this.logger.log(`${describeHopEvent(event)} queued in ${queue.name}`);
    }
  }

  private jobData(event: HopEvent<string>, trace: HopDeliveryTrace | undefined): HopQueueJobData {
    const traceContext = this.telemetry.carrierOf(trace);
    return traceContext === undefined ? { event } : { event, traceContext };
  }
}

/**
 * The job id of an event: its id, escaped where BullMQ would refuse it, Redis merge it with
 * another (a lone surrogate becomes U+FFFD in a key), or BullMQ's own messages print it raw
 * into the log: `%`, `:` and every code unit outside visible ASCII as `%` and four hex digits,
 * and a `%` in front of an id that reads as an integer. Hop's ids (`event_…`) are their job
 * ids as they are.
 */
export function hopJobId(eventId: string): string {
  const escaped = eventId.replace(
    /[^\x21-\x24\x26-\x39\x3b-\x7e]/g,
    (unit) => `%${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return String(Number.parseInt(escaped, 10)) === escaped ? `%${escaped}` : escaped;
}
