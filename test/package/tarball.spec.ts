// What `npm pack` ships, read as someone who installed the package would: every source map and
// every link of the README leads to a file that is in the tarball.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

describe('the packed tarball', () => {
  let shipped: Set<string>;

  beforeAll(() => {
    const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const [pack] = JSON.parse(output) as [{ files: { path: string }[] }];
    shipped = new Set(pack.files.map((file) => file.path));
    if (!shipped.has('dist/cjs/index.js')) {
      throw new Error('dist/ is missing: run `npm run build` before these tests');
    }
  });

  it('ships both builds, their types, the license and the node10 stubs of ./testing and ./health', () => {
    for (const file of [
      'dist/esm/index.js',
      'dist/esm/index.d.ts',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/package.json',
      'dist/esm/testing/index.js',
      'dist/cjs/testing/index.d.ts',
      'testing/package.json',
      'dist/esm/health/index.js',
      'dist/cjs/health/index.d.ts',
      'health/package.json',
      'LICENSE',
      'README.md',
    ]) {
      expect(shipped, file).toContain(file);
    }
  });

  it('ships the source every source map and declaration map points at', () => {
    const maps = [...shipped].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(new URL(map, ROOT), 'utf8')) as {
        sources: string[];
      };
      return sources
        .map((source) => posix.normalize(posix.join(posix.dirname(map), source)))
        .filter((source) => !shipped.has(source));
    });
    expect(missing).toEqual([]);
  });

  it('ships every file the README links to by a relative path', () => {
    const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map(([, target]) => target!);
    const relative = links.filter((target) => !/^[a-z]+:/i.test(target));
    expect(relative.filter((target) => !shipped.has(posix.normalize(target)))).toEqual([]);
  });
});
