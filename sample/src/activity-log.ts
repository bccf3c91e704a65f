import { Injectable, Logger } from '@nestjs/common';
import { OnHopEvent, type HopEvent } from 'nestjs-hop-webhooks';

/** Sees every event Hop sends, including ones this library does not know yet. */
@Injectable()
export class ActivityLog {
  private readonly logger = new Logger(ActivityLog.name);

  @OnHopEvent('*')
  record(event: HopEvent): void {
    this.logger.log(`${event.event} ${event.id} (project ${event.project_id})`);
  }
}
