// setupFiles of vitest.nest11.config.ts. Vitest's alias covers what it loads itself (lib/, test/,
// dist/esm); files Node requires on its own, like dist/cjs in test/package/, would resolve
// `@nestjs/*` (and rxjs) from the root's node_modules (Nest 12): send those to the test/nest11
// copies too. Then stop the run if `@nestjs/core` is not that copy of Nest 11.
import Module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';

const here = fileURLToPath(new URL('../nest11/', import.meta.url));
const require = createRequire(new URL('../nest11/package.json', import.meta.url));

const NEST11 = /^(@nestjs\/|rxjs$|rxjs\/|reflect-metadata$|reflect-metadata\/|bullmq$|bullmq\/)/;

type Resolve = (
  request: string,
  parent: { filename?: string } | undefined,
  ...rest: never[]
) => string;
const loader = Module as unknown as { _resolveFilename: Resolve & { nest11?: true } };
if (!loader._resolveFilename.nest11) {
  const resolve = loader._resolveFilename;
  const toNest11: Resolve & { nest11?: true } = function (this: unknown, request, parent, ...rest) {
    if (NEST11.test(request) && !parent?.filename?.startsWith(here)) {
      return require.resolve(request);
    }
    return resolve.call(this, request, parent, ...rest);
  };
  toNest11.nest11 = true;
  loader._resolveFilename = toNest11;
}

const { version } = require('@nestjs/core/package.json') as { version: string };
const nest11Core = require('@nestjs/core') as { NestFactory: unknown };
if (!version.startsWith('11.') || NestFactory !== nest11Core.NestFactory) {
  throw new Error(
    `vitest.nest11.config.ts: '@nestjs/core' is not the test/nest11 copy of Nest 11 (found ${version}): run \`npm ci --prefix test/nest11\``,
  );
}
