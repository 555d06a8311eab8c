import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { newTestRunId } from './test/helpers/global-setup.js';

const require = createRequire(import.meta.url);

// The suite is one set of tests with the database as a parameter: every file runs on SQLite, and
// again on PostgreSQL when TEST_DATABASE_URL names one (`.ci/run` always sets it).
const postgres = process.env.TEST_DATABASE_URL;
if (!postgres) console.warn('TEST_DATABASE_URL is not set: the PostgreSQL run of the suite is skipped');
// The run's id names its PostgreSQL database, so concurrent runs on one server keep to their own.
process.env.TEST_RUN_ID ??= newTestRunId();
const run = { TEST_RUN_ID: process.env.TEST_RUN_ID };

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
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { TEST_DB: 'sqlite', ...run } } },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: ['test/**/*.test.ts'],
                env: { TEST_DB: 'postgres', ...run },
                // The run's own PostgreSQL database: made before, dropped after.
                globalSetup: ['test/helpers/global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
