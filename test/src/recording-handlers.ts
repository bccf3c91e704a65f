import { Injectable } from '@nestjs/common';
import { OnHopEvent, type HopEvent } from '../../lib/index.js';

export interface HandlerCall {
  readonly handler: string;
  readonly event: HopEvent<string>;
}

/** Shared record of which handler saw which event, in the order they finished. */
@Injectable()
export class CallRecorder {
  readonly calls: HandlerCall[] = [];

  record(handler: string, event: HopEvent<string>): void {
    this.calls.push({ handler, event });
  }

  handlersFor(eventId: string): string[] {
    return this.calls
      .filter((call) => call.event.id === eventId)
      .map((call) => call.handler)
      .sort();
  }
}

/** One handler per way of naming events. */
@Injectable()
export class RoutingHandlers {
  constructor(private readonly recorder: CallRecorder) {}

  @OnHopEvent('ignite.deployment.build.updated')
  exact(event: HopEvent<'ignite.deployment.build.updated'>): void {
    this.recorder.record('exact', event);
  }

  @OnHopEvent(['project.member.created', 'project.member.deleted'])
  array(event: HopEvent<'project.member.created' | 'project.member.deleted'>): void {
    this.recorder.record('array', event);
  }

  @OnHopEvent('ignite.deployment.*')
  singleSegmentWildcard(event: HopEvent): void {
    this.recorder.record('ignite.deployment.*', event);
  }

  @OnHopEvent('ignite.**')
  multiSegmentWildcard(event: HopEvent): void {
    this.recorder.record('ignite.**', event);
  }

  @OnHopEvent('*')
  async everything(event: HopEvent): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.recorder.record('*', event);
  }
}

/** For `project.secrets.deleted`: one handler fails, a slower one must still finish. */
@Injectable()
export class FailingHandlers {
  constructor(private readonly recorder: CallRecorder) {}

  @OnHopEvent('project.secrets.deleted')
  explode(): never {
    throw new Error('handler exploded on purpose');
  }

  @OnHopEvent('project.secrets.deleted')
  async slowButFine(event: HopEvent<'project.secrets.deleted'>): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.recorder.record('slowButFine', event);
  }

  @OnHopEvent('project.tokens.deleted', { suppressErrors: true })
  async rejectsQuietly(): Promise<void> {
    throw new Error('suppressed failure');
  }
}
