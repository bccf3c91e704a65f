import { Injectable, Logger } from '@nestjs/common';
import { OnHopEvent, type HopEvent } from 'nestjs-hop-webhooks';

@Injectable()
export class DeploymentsService {
  private readonly logger = new Logger(DeploymentsService.name);

  @OnHopEvent('ignite.deployment.build.updated')
  onBuildUpdated(event: HopEvent<'ignite.deployment.build.updated'>): void {
    const build = event.data;
    this.logger.log(`${event.event} ${event.id}: build ${build.id} is ${build.state}`);
  }

  @OnHopEvent('ignite.deployment.container.metrics_update')
  onMetrics(event: HopEvent<'ignite.deployment.container.metrics_update'>): void {
    const { container_id, metrics } = event.data;
    this.logger.log(
      `${event.event} ${event.id}: ${container_id} uses ${metrics.cpu_usage_percent}% CPU, ${metrics.memory_usage_bytes} bytes`,
    );
  }
}
