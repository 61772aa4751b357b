// vitest's default exclude (`**/dist/**`) also matches test/dist/; this config runs these tests on their own
// (`npx vitest run -c test/dist/vitest.config.ts`) until the root config anchors its exclude to the build dir.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/dist/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
