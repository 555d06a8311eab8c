/**
 * Drops the PostgreSQL schemas that tests made. Schemas are named `test_<pid>_<random>` after the
 * vitest process that owns the run, so that several runs at once on one server (engineers side by
 * side, or CI beside a developer) never drop each other's schemas: a run drops its own when it
 * ends, and at its start the leftovers of runs whose process is gone.
 */
import pg from 'pg';

/** The run's prefix: vitest.config.ts passes the owning process id to every worker. */
export function testSchemaPrefix(pid: string | number = process.env.TEST_RUN_PID ?? process.pid): string {
  return `test_${pid}_`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

export async function setup(): Promise<() => Promise<void>> {
  const own = testSchemaPrefix(process.pid);
  await dropTestSchemas((name) => {
    const pid = /^test_(\d+)_/.exec(name)?.[1];
    // Schemas without a pid come from before runs were told apart: leftovers as well.
    return pid === undefined || !isAlive(Number(pid));
  });
  return () => dropTestSchemas((name) => name.startsWith(own));
}
