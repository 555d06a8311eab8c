import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

// The suite is one set of tests with the database as a parameter: every file runs on SQLite, and
// again on PostgreSQL when TEST_DATABASE_URL names one (`.ci/run` always sets it).
const postgres = process.env.TEST_DATABASE_URL;
if (!postgres) console.warn('TEST_DATABASE_URL is not set: the PostgreSQL run of the suite is skipped');

export default defineConfig({
  resolve: {
    // One graphql for everyone: packages load its CommonJS build, so the tests must too,
    // or two copies of graphql meet and refuse each other's types.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files run in parallel two at a time, each test against its own fresh database.
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DB: 'sqlite' } } },
      ...(postgres
        ? [{ extends: true, test: { name: 'postgres', include: ['test/**/*.test.ts'], env: { TEST_DB: 'postgres' } } }]
        : []),
    ],
  },
});
