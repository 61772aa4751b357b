import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // An unhandled rejection or uncaught exception anywhere fails the suite (vitest's default; kept explicit).
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
