import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // esbuild drops decorator metadata, which Nest's dependency injection reads: SWC keeps it.
  plugins: [
    swc.vite({
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: {
          legacyDecorator: true,
          decoratorMetadata: true,
          useDefineForClassFields: false,
        },
      },
    }),
  ],
  test: {
    include: ['test/**/*.spec.ts'],
    // test/consumers/ holds apps made by `nest new`, each with its own runner: `npm run test:consumers`.
    exclude: [...configDefaults.exclude, 'test/consumers/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
