// The same suite against Nest 11 (CommonJS): `npm run test:nest11`.
// Every `@nestjs/*` import from lib/ and test/ (subpaths too), and rxjs and reflect-metadata, go
// to the copies installed in test/nest11/node_modules (`npm ci --prefix test/nest11`). Vitest
// leaves files under node_modules to Node, so Nest 11's own `require('@nestjs/common')` and
// friends stay inside that folder: one copy of each package, none of the root's Nest 12. A package
// missing there fails to resolve. rxjs must be Nest 11's copy too: its interceptors take a
// handler's Observable for one only if it is `instanceof` their own rxjs's Observable. bullmq is
// BullMQ 5 there (what @nestjs/bullmq 11 takes), BullMQ 6 at the root.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const nest11 = fileURLToPath(new URL('./test/nest11/node_modules/', import.meta.url));

export default mergeConfig(
  base,
  defineConfig({
    resolve: {
      alias: [
        {
          find: /^(@nestjs\/[^/]+|rxjs|reflect-metadata|bullmq)(\/.*)?$/,
          replacement: `${nest11}$1$2`,
        },
      ],
    },
    test: {
      include: ['test/**/*.nest11.ts'],
      setupFiles: ['test/src/nest11-setup.ts'],
    },
  }),
);
