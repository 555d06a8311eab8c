/**
 * Drops the PostgreSQL schemas that tests made. Schemas are named `test_<run>_<random>`, where the
 * run id starts with the run's start time (seconds, base 36): several runs at once on one server
 * (engineers side by side, CI beside a developer) never drop each other's schemas. A run drops its
 * own when it ends, and at its start the leftovers of runs that began over two hours ago.
 */
import pg from 'pg';

const STALE_AFTER_S = 2 * 60 * 60;

/** The run's prefix: vitest.config.ts sets TEST_RUN_ID for itself, this setup and every worker. */
export function testSchemaPrefix(): string {
  const run = process.env.TEST_RUN_ID;
  if (!run) throw new Error('TEST_RUN_ID is not set (vitest.config.ts sets it)');
  return `test_${run}_`;
}

/** A new run id: start time in seconds (base 36) and a random part, for two runs in one second. */
export function newTestRunId(): string {
  return `${Math.floor(Date.now() / 1000).toString(36)}_${Math.random().toString(16).slice(2, 6)}`;
}

async function dropTestSchemas(which: (name: string) => boolean): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`select nspname as name from pg_namespace where nspname like 'test\\_%'`);
    for (const { name } of rows) if (which(name)) await client.query(`drop schema if exists "${name}" cascade`);
  } finally {
    await client.end();
  }
}

function isStale(name: string): boolean {
  const started = /^test_([0-9a-z]+)_[0-9a-f]+_/.exec(name)?.[1];
  // Names of another shape come from before runs were told apart: leftovers as well.
  if (started === undefined) return true;
  return Date.now() / 1000 - parseInt(started, 36) > STALE_AFTER_S;
}

export async function setup(): Promise<() => Promise<void>> {
  const own = testSchemaPrefix();
  await dropTestSchemas(isStale);
  return () => dropTestSchemas((name) => name.startsWith(own));
}
