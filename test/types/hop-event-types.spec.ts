// Type-level assertions: `npm run typecheck` (tsc) checks them, and every `@ts-expect-error`
// line fails the type check if its line ever compiles. The `it` blocks run the same code.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  HopBuild,
  HopContainerMetricsUpdate,
  HopEvent,
  HopEventName,
  HopEventPattern,
} from '../../lib/index.js';
import { buildHopEvent } from '../../lib/testing/delivery.js';

/** Accepts only what `@OnHopEvent` accepts; a call is an assertion about `HopEventPattern`. */
function pattern<P extends HopEventPattern>(value: P): P {
  return value;
}

/** Narrows the default `HopEvent` union on `.event`, as a handler for `*` would. */
function describeEvent(event: HopEvent): string {
  if (event.event === 'ignite.deployment.build.updated') {
    expectTypeOf(event.data).toEqualTypeOf<HopBuild>();
    return `build ${event.data.state}`;
  }
  if (event.event === 'ignite.deployment.container.metrics_update') {
    expectTypeOf(event.data).toEqualTypeOf<HopContainerMetricsUpdate>();
    return `memory ${event.data.metrics.memory_usage_percent}%`;
  }
  // @ts-expect-error only build events have a `state` on every member of the union
  return String(event.data.state);
}

describe('HopEvent', () => {
  it('types data by event name: a build for ignite.deployment.build.updated', () => {
    expectTypeOf<HopEvent<'ignite.deployment.build.updated'>['data']>().toEqualTypeOf<HopBuild>();
    expectTypeOf<
      HopEvent<'ignite.deployment.build.updated'>['event']
    >().toEqualTypeOf<'ignite.deployment.build.updated'>();
    expectTypeOf<HopEvent<'project.updated'>['data']>().not.toEqualTypeOf<HopBuild>();

    const event = buildHopEvent('ignite.deployment.build.updated');
    expectTypeOf(event).toEqualTypeOf<HopEvent<'ignite.deployment.build.updated'>>();
    expect(event.data.deployment_id).toMatch(/^deployment_/);
  });

  it('types the metrics_update percentages as strings, as Hop sends them', () => {
    expectTypeOf<
      HopEvent<'ignite.deployment.container.metrics_update'>['data']['metrics']['cpu_usage_percent']
    >().toEqualTypeOf<string>();

    const event = buildHopEvent('ignite.deployment.container.metrics_update');
    expect(typeof event.data.metrics.cpu_usage_percent).toBe('string');
  });

  it('narrows the default HopEvent union on .event', () => {
    expectTypeOf<HopEvent['event']>().toEqualTypeOf<HopEventName>();

    expect(describeEvent(buildHopEvent('ignite.deployment.build.updated'))).toBe('build pending');
    expect(describeEvent(buildHopEvent('ignite.deployment.container.metrics_update'))).toBe(
      'memory 0.07%',
    );
  });

  it('types the data of an event outside the catalog as unknown', () => {
    expectTypeOf<HopEvent<'some.future.event'>['data']>().toBeUnknown();
    expectTypeOf<HopEvent<'some.future.event'>['event']>().toEqualTypeOf<'some.future.event'>();

    const event = buildHopEvent('some.future.event', { data: { anything: true } });
    expectTypeOf(event.data).toBeUnknown();
    // @ts-expect-error unknown data must be narrowed before use
    expect(event.data.anything).toBe(true);
  });
});

describe('HopEventPattern', () => {
  it('accepts catalog names and the wildcards ignite.deployment.*, ignite.** and *', () => {
    expectTypeOf<'ignite.deployment.build.updated'>().toExtend<HopEventPattern>();
    expectTypeOf<'ignite.deployment.*'>().toExtend<HopEventPattern>();
    expectTypeOf<'ignite.**'>().toExtend<HopEventPattern>();
    expectTypeOf<'*'>().toExtend<HopEventPattern>();
    expectTypeOf<'**'>().toExtend<HopEventPattern>();

    expect([
      pattern('ignite.deployment.build.updated'),
      pattern('ignite.deployment.*'),
      pattern('ignite.**'),
      pattern('*'),
      pattern('project.member.*'),
    ]).toHaveLength(5);
  });

  it('refuses a misspelt event name and a wildcard under an unknown prefix', () => {
    expectTypeOf<'ignite.deployment.build.updatd'>().not.toExtend<HopEventPattern>();
    expectTypeOf<'ignite.deploymnt.*'>().not.toExtend<HopEventPattern>();
    expectTypeOf<string>().not.toExtend<HopEventPattern>();

    // @ts-expect-error misspelt event name
    expect(pattern('ignite.deployment.build.updatd')).toBe('ignite.deployment.build.updatd');
    // @ts-expect-error misspelt prefix
    expect(pattern('ignite.deploymnt.*')).toBe('ignite.deploymnt.*');
    // @ts-expect-error a wildcard glued to a segment
    expect(pattern('ignite.*x')).toBe('ignite.*x');
  });
});
