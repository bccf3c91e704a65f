import { Injectable, Logger } from '@nestjs/common';
import { OnHopEvent, type HopEvent } from 'nestjs-hop-webhooks';

@Injectable()
export class BuildEventsService {
  private readonly logger = new Logger(BuildEventsService.name);
  readonly received: HopEvent<'ignite.deployment.build.updated'>[] = [];

  @OnHopEvent('ignite.deployment.build.updated')
  onBuildUpdated(event: HopEvent<'ignite.deployment.build.updated'>) {
    this.received.push(event);
    this.logger.log(
      `Build ${event.data.id} is ${event.data.state} (${event.id})`,
    );
  }
}
