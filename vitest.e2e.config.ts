import { defineConfig } from 'vitest/config';

// End-to-end: real BuildKit builds of the sample factory against the local sandbox.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 45 * 60_000,
    hookTimeout: 45 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
