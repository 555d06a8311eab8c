/**
 * PostgreSQL for one test run: a database of its own (`kpi_test_<run>`), made at the start and
 * dropped at the end, in which every test gets a fresh schema. A database per run, not only a
 * schema per test, because Kysely's migrator lists the tables of every schema it can see, and a
 * schema dropped meanwhile by another run (engineers side by side, CI beside a developer) makes
 * that listing fail.
 */
import pg from 'pg';

const STALE_AFTER_S = 2 * 60 * 60;
const PREFIX = 'kpi_test_';

/** A new run id: start time in seconds (base 36) and a random part, for two runs in one second. */
export function newTestRunId(): string {
  return `${Math.floor(Date.now() / 1000).toString(36)}_${Math.random().toString(16).slice(2, 6)}`;
}

function runDatabaseName(): string {
  const run = process.env.TEST_RUN_ID;
  if (!run) throw new Error('TEST_RUN_ID is not set (vitest.config.ts sets it)');
  return `${PREFIX}${run}`;
}

/** TEST_DATABASE_URL pointed at this run's own database. */
export function runDatabaseUrl(): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${runDatabaseName()}`;
  return url.toString();
}

function isStale(name: string): boolean {
  const started = new RegExp(`^${PREFIX}([0-9a-z]+)_`).exec(name)?.[1];
  return started !== undefined && Date.now() / 1000 - parseInt(started, 36) > STALE_AFTER_S;
}

async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<(() => Promise<void>) | void> {
  if (!process.env.TEST_DATABASE_URL) return;
  const own = runDatabaseName();
  await withServer(async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `select datname as name from pg_database where datname like 'kpi\\_test\\_%'`,
    );
    for (const { name } of rows)
      if (isStale(name)) await client.query(`drop database if exists "${name}" with (force)`);
    await client.query(`create database "${own}"`);
  });
  return () => withServer(async (client) => void (await client.query(`drop database if exists "${own}" with (force)`)));
}
