import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = join(import.meta.dirname, '../../lib');

/** Every TypeScript file under lib/. */
function libFiles(): string[] {
  return readdirSync(LIB, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .map((path) => join(LIB, path));
}

// Top-level declarations that hold state a module could change: a `let` or `var`, or a
// collection that is not typed read-only (`const known: ReadonlySet<string> = new Set(...)`
// is fine).
const MUTABLE_STATE = [
  /^(?:export )?(?:let|var) /m,
  /^(?:export )?const \w+ = new (?:Map|Set|WeakMap|WeakSet|Array)\b/m,
  /^(?:export )?const \w+(?:: [^=]+)? = \[\];/m,
];

describe('lib/', () => {
  it('holds no module-level mutable state: state lives in providers and instances', () => {
    const files = libFiles();
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((file) => {
      const source = readFileSync(file, 'utf8');
      return MUTABLE_STATE.filter((pattern) => pattern.test(source)).map(
        (pattern) => `${relative(LIB, file)}: ${pattern.exec(source)?.[0]}`,
      );
    });
    expect(offenders).toEqual([]);
  });
});
