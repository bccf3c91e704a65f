import { defineConfig } from 'vitest/config';
import tsconfigPaths from 'vite-tsconfig-paths';

export default defineConfig({
  plugins: [tsconfigPaths()],
  test: {
    globals: true,
    root: './',
    include: ['**/*.e2e-spec.ts'],
    // AppModule reads the webhook secret when it is imported.
    env: { HOP_WEBHOOK_SECRET: 'whsec_e2e_test_secret' },
  },
});
