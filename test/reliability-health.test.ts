/** /health (alive), /ready (can work now), and the start-up that refuses a database from a newer version. */
import { DEFAULT_MIGRATION_TABLE, sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { NotReady } from '../src/health/readiness.js';
import { freshDatabaseUrl, testApp } from './helpers/app.js';
import { startServer } from './helpers/process.js';

async function ready(t: Awaited<ReturnType<typeof testApp>>) {
  const response = await t.app.fetch('http://x/ready');
  return { status: response.status, body: await response.json() };
}

const migrationTable = (schema: string | null) =>
  sql.table(schema ? `${schema}.${DEFAULT_MIGRATION_TABLE}` : DEFAULT_MIGRATION_TABLE);

describe('health and readiness', () => {
  it('answers /health 200 while alive and /ready 200 with each check once the database is reachable and migrated', async () => {
    const t = await testApp();
    expect((await t.app.fetch('http://x/health')).status).toBe(200);
    expect(await ready(t)).toEqual({ status: 200, body: { ready: true, checks: { database: 'ok' } } });
  });

  it('answers /ready 503 naming the migration a database lacks, and a failing dependency, without internals', async () => {
    const t = await testApp();
    const { database } = t.app.services;
    await sql`delete from ${migrationTable(database.schema)} where name = '2026-11-26-01-initial'`.execute(database.db);
    t.app.readiness.add('redis', async () => {
      throw new NotReady('not connected');
    });
    t.app.readiness.add('disk', async () => {
      throw new Error('EACCES: permission denied, open /var/secret/path');
    });
    expect(await ready(t)).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: {
          database: 'migrations not applied: 2026-11-26-01-initial',
          redis: 'not connected',
          disk: 'unavailable',
        },
      },
    });
  });

  it('answers /ready 503 while REDIS_URL is set and Redis cannot be reached', async () => {
    const t = await testApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(await ready(t)).toEqual({
      status: 503,
      body: { ready: false, checks: { database: 'ok', redis: 'not connected' } },
    });
  });

  it.runIf(process.env.TEST_REDIS_URL)('answers /ready 200 with Redis connected when REDIS_URL is set', async () => {
    const t = await testApp({ env: { REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_PREFIX: `ready-${process.pid}:` } });
    await vi.waitFor(async () =>
      expect(await ready(t)).toEqual({ status: 200, body: { ready: true, checks: { database: 'ok', redis: 'ok' } } }),
    );
  });

  it('answers /ready 503 once shutdown begins', async () => {
    const t = await testApp();
    const stopping = t.app.stop();
    expect((await ready(t)).body.checks.shutdown).toBe('shutting down');
    await stopping;
  });

  it('refuses to start on a database migrated by a newer version, with a message saying so, and changes nothing', async () => {
    const url = freshDatabaseUrl();
    const database = await openDatabase(url);
    await migrateToLatest(database);
    await sql`insert into ${migrationTable(database.schema)} (name, timestamp) values ('2099-01-01-01-from-the-future', '2099-01-01T00:00:00.000Z')`.execute(
      database.db,
    );
    const tables = async () =>
      (await database.db.introspection.getTables())
        .filter((t) => (t.schema ?? null) === (database.schema ?? t.schema ?? null))
        .map((t) => t.name)
        .sort();
    const before = await tables();

    const failure = await startServer({ DATABASE_URL: url }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/exited \(1\) before listening/);
    expect(failure).toContain(
      'failed to start: the database was migrated by a newer version of this service (migrations this version does not know: 2099-01-01-01-from-the-future); refusing to start',
    );
    expect(await tables()).toEqual(before);
    await database.close();
  });
});
