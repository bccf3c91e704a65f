import { describe, expect, it } from 'vitest';
import { compileHopEventPattern } from '../../lib/core/event-pattern.js';
import { HOP_EVENTS } from '../../lib/core/events.catalog.js';
import { HopConfigurationError } from '../../lib/core/errors.js';
import { thrownBy } from '../src/thrown-by.js';

const CATALOG: readonly string[] = HOP_EVENTS.map((event) => event.id);
const UNKNOWN_NAMES = ['some.future.event', 'billing', 'ignite.deployment.volume.created'];

/** The names of `names` that `pattern` matches. */
function matching(pattern: string, names: readonly string[] = CATALOG): string[] {
  const matcher = compileHopEventPattern(pattern);
  if (matcher.kind !== 'wildcard') throw new Error(`${pattern} compiled to an exact name`);
  return names.filter((name) => matcher.test(name));
}

describe('compileHopEventPattern', () => {
  describe('kinds', () => {
    it('compiles a name without * to an exact matcher carrying the name', () => {
      const matcher = compileHopEventPattern('ignite.deployment.build.updated');
      expect(matcher).toMatchObject({ kind: 'exact', name: 'ignite.deployment.build.updated' });
      expect(matcher.test('ignite.deployment.build.updated')).toBe(true);
      expect(matcher.test('ignite.deployment.build.created')).toBe(false);
    });

    it('compiles every catalog name to an exact matcher', () => {
      for (const name of CATALOG) {
        expect(compileHopEventPattern(name)).toMatchObject({ kind: 'exact', name });
      }
    });

    it('compiles an unknown but well-formed name to an exact matcher', () => {
      expect(compileHopEventPattern('some.future-event_2')).toMatchObject({
        kind: 'exact',
        name: 'some.future-event_2',
      });
    });

    it.each(['*', '**', 'ignite.*', 'ignite.**', 'project.*.created', '*.updated'])(
      'compiles %s to a wildcard matcher carrying the pattern',
      (pattern) => {
        const matcher = compileHopEventPattern(pattern);

        expect(matcher.kind).toBe('wildcard');
        expect(matcher).toMatchObject({ pattern });
      },
    );
  });

  describe('* and ** alone', () => {
    it.each(['*', '**'])('%s matches every catalog name and unknown names', (pattern) => {
      expect(matching(pattern)).toEqual(CATALOG);
      expect(matching(pattern, UNKNOWN_NAMES)).toEqual(UNKNOWN_NAMES);
    });
  });

  describe('* in a longer pattern is exactly one segment', () => {
    it('ignite.deployment.* matches the three deployment events and nothing deeper', () => {
      expect(matching('ignite.deployment.*')).toEqual([
        'ignite.deployment.created',
        'ignite.deployment.updated',
        'ignite.deployment.deleted',
      ]);
    });

    it('ignite.deployment.* does not match ignite.deployment.build.created', () => {
      const matcher = compileHopEventPattern('ignite.deployment.*');

      expect(matcher.kind === 'wildcard' && matcher.test('ignite.deployment.created')).toBe(true);
      expect(matcher.kind === 'wildcard' && matcher.test('ignite.deployment.build.created')).toBe(
        false,
      );
    });

    it('ignite.deployment.* needs a segment where the * stands', () => {
      expect(matching('ignite.deployment.*', ['ignite.deployment', 'ignite.deployment.'])).toEqual(
        [],
      );
    });

    it('project.*.created matches the created event of each project resource', () => {
      expect(matching('project.*.created')).toEqual([
        'project.member.created',
        'project.tokens.created',
        'project.secrets.created',
      ]);
      expect(matching('project.*.created', ['project.created', 'project.a.b.created'])).toEqual([]);
    });

    it('*.updated matches two-segment names only', () => {
      expect(matching('*.updated')).toEqual(['project.updated']);
    });

    it('matches each segment literally, not as a prefix or a regular expression', () => {
      expect(
        matching('ignite.deployment.*', [
          'ignite.deploymentX.created',
          'igniteXdeployment.created',
          'xignite.deployment.created',
          'ignite.deployment.createdx.y',
        ]),
      ).toEqual([]);
    });

    it('a * in place of any one segment of a catalog name matches that name', () => {
      for (const name of CATALOG) {
        const segments = name.split('.');
        segments.forEach((_segment, index) => {
          const pattern = segments.map((part, at) => (at === index ? '*' : part)).join('.');
          expect(matching(pattern, [name]), pattern).toEqual([name]);
        });
      }
    });
  });

  describe('** in a longer pattern is one or more segments', () => {
    it('ignite.** matches every ignite event of the catalog and no project event', () => {
      const ignite = HOP_EVENTS.filter((event) => event.group === 'ignite').map(
        (event) => event.id,
      );

      expect(ignite).toHaveLength(23);
      expect(matching('ignite.**')).toEqual(ignite);
    });

    it('ignite.** matches unknown ignite names but not ignite alone', () => {
      expect(
        matching('ignite.**', ['ignite.deployment.volume.created', 'ignite.x', 'ignite']),
      ).toEqual(['ignite.deployment.volume.created', 'ignite.x']);
    });

    it('** never matches an empty segment', () => {
      expect(matching('ignite.**', ['ignite.', 'ignite..x', 'ignite.x.', 'ignite.x..y'])).toEqual(
        [],
      );
      expect(matching('ignite.**.created', ['ignite..created', 'ignite.created'])).toEqual([]);
    });

    it('project.** matches the ten project events', () => {
      expect(matching('project.**')).toHaveLength(10);
      expect(matching('project.**').every((name) => name.startsWith('project.'))).toBe(true);
    });

    it('ignite.**.created matches created events at any depth below ignite', () => {
      expect(matching('ignite.**.created')).toEqual([
        'ignite.deployment.created',
        'ignite.deployment.build.created',
        'ignite.deployment.rollout.created',
        'ignite.deployment.container.created',
        'ignite.deployment.healthcheck.created',
        'ignite.deployment.gateway.created',
      ]);
      expect(matching('ignite.**.created', ['ignite.created'])).toEqual([]);
    });
  });

  describe('malformed patterns', () => {
    it.each([
      ['an empty string', ''],
      ['a trailing dot', 'ignite.'],
      ['a leading dot', '.x'],
      ['an empty segment', 'ignite..deployment'],
      ['* joined to letters', 'ignite.*x'],
      ['letters joined to *', 'ignite.x*'],
      ['three stars', 'ignite.***'],
      ['upper case', 'IGNITE'],
      ['mixed case', 'ignite.Deployment.created'],
      ['a space', 'ignite.deployment created'],
      ['a regular-expression character', 'ignite.deployment.(created|updated)'],
      ['a slash', 'ignite/deployment'],
      ['a ? wildcard', 'ignite.deployment.?'],
    ])('%s (%j) throws HopConfigurationError naming the pattern', (_case, pattern) => {
      const error = thrownBy(() => compileHopEventPattern(pattern));

      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toContain(pattern === '' ? '""' : `'${pattern}'`);
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an array', ['ignite.**']],
    ])('%s throws HopConfigurationError', (_case, pattern) => {
      const error = thrownBy(() => compileHopEventPattern(pattern));

      expect(error).toBeInstanceOf(HopConfigurationError);
      expect(error.message).toMatch(/non-empty string/);
    });

    it('accepts digits, hyphens and underscores in a segment', () => {
      expect(compileHopEventPattern('ignite.deployment.container.metrics_update').kind).toBe(
        'exact',
      );
      expect(matching('v2-api.*', ['v2-api.x_1'])).toEqual(['v2-api.x_1']);
    });
  });
});
