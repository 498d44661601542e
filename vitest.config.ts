import { configDefaults, defineConfig } from 'vitest/config';

// `npm test`: unit and integration tests. The end-to-end builds of the whole sample factory
// run separately (`npm run test:e2e`, vitest.e2e.config.ts): they take many minutes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    testTimeout: 60_000,
    // Integration hooks start servers and remove dozens of repositories: on a loaded 2-core
    // machine that ran past the 10 s default (test/plan/scenarios.itg.test.ts's cleanup).
    hookTimeout: 120_000,
    pool: 'forks',
    // @actions/workflow-parser imports its schema JSON without an import attribute, which Node
    // refuses; letting Vite transform the package makes it loadable in tests.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
