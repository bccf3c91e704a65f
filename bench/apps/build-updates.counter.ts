import { Injectable } from '@nestjs/common';
import { OnHopEvent } from 'nestjs-hop-webhooks';

/** The app's one handler: counts the deliveries it was run for. */
@Injectable()
export class BuildUpdatesCounter {
  handled = 0;

  @OnHopEvent('ignite.deployment.build.updated')
  onBuildUpdated(): void {
    this.handled += 1;
  }
}
