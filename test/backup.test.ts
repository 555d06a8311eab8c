/**
 * Backups of the embedded default (src/db/backup.ts, `npm run backup` / `npm run restore`): a copy
 * taken while the service writes holds every event acknowledged before it began, restores into a
 * database whose rollups equal a rebuild, and starts and serves; bad destinations and backups of a
 * newer version are refused and change nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { print } from 'graphql';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backupDatabase, BackupError, restoreDatabase } from '../src/db/backup.js';
import { openDatabase } from '../src/db/database.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import {
  CreateProgramDocument,
  DashboardDocument,
  RecordEventsDocument,
  RecordResolutionTimeDocument,
} from './generated/operations.js';
import { testDialect } from './helpers/app.js';
import { changes } from './helpers/changes.js';
import { startServer, type ServerProcess } from './helpers/process.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Above LOCAL_COMMIT_MAX_EVENTS (src/write/event-writer.ts): each batch commits in the writer thread. */
const BATCH = 500;
const RECORD_EVENTS = print(RecordEventsDocument);
const RECORD_RESOLUTION = print(RecordResolutionTimeDocument);

function folder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'kpi-backup-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `npm run backup -- FILE` / `npm run restore -- FILE` as an operator runs them (tsx, the script's own process). */
function cli(command: 'backup' | 'restore', file: string, databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', command, file], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
}

async function program(server: ServerProcess, id: string) {
  expect((await server.graphql(print(CreateProgramDocument), { input: { id, name: id } })).body.errors).toBeUndefined();
}

/** Every rollup row, then the same after a rebuild from the raw events: equal when the rollups are exact. */
async function rollupsAndRebuild(file: string) {
  const database = await openDatabase(file);
  try {
    const snapshot = async () =>
      (await database.db.selectFrom('rollups').selectAll().execute())
        .map((r) => JSON.stringify({ ...r, res_hist: Buffer.from(r.res_hist).toString('base64') }))
        .sort();
    const kept = await snapshot();
    await database.db.updateTable('rollup_state').set({ version: 0 }).where('id', '=', 1).execute();
    expect(await ensureRollups(database)).toBe(true);
    return { kept, rebuilt: await snapshot() };
  } finally {
    await database.close();
  }
}

const keysIn = (file: string) => {
  const db = new SQLite(file, { readonly: true });
  try {
    return new Set((db.prepare('select case_id as k from events').all() as { k: string }[]).map((r) => r.k));
  } finally {
    db.close();
  }
};

describe.runIf(testDialect === 'sqlite')('backups of the SQLite database', () => {
  it('copies a database under concurrent writers, batches in the writer thread among them, and restores every event acknowledged before it began', async () => {
    const dir = folder();
    const live = path.join(dir, 'live.db');
    const server = await startServer({ DATABASE_URL: live, RATE_LIMIT_PER_MINUTE: '0' });
    await program(server, 'A');
    await program(server, 'B');

    // Each acknowledged event, with the moment its answer arrived.
    const acknowledged = new Map<string, number>();
    const acks = changes();
    let backupRunning = false;
    let batchesDuringBackup = 0;
    let stop = false;
    const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + (n % 300))).toISOString();
    async function batches(writer: number) {
      for (let n = 0; !stop; n++) {
        const events = Array.from({ length: BATCH }, (_, i) => ({
          programId: i % 2 ? 'A' : 'B',
          kind: (['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const)[i % 3],
          value: i % 3 === 0 ? 1 + (i % 20) : i % 3 === 1 ? 1 + (i % 5) : null,
          caseId: `b${writer}-${n}-${i}`,
          idempotencyKey: `b${writer}-${n}-${i}`,
          occurredAt: day(n + i),
        }));
        const during = backupRunning;
        const answer = await server.graphql(RECORD_EVENTS, { events });
        expect(answer.body.errors).toBeUndefined();
        const at = Date.now();
        for (const e of events) acknowledged.set(e.idempotencyKey, at);
        acks.notify();
        if (during && backupRunning) batchesDuringBackup++;
      }
    }
    async function singles(writer: number) {
      for (let n = 0; !stop; n++) {
        const key = `s${writer}-${n}`;
        const input = { programId: 'A', caseId: key, idempotencyKey: key, days: 1 + (n % 9), occurredAt: day(n) };
        expect((await server.graphql(RECORD_RESOLUTION, { input })).body.errors).toBeUndefined();
        acknowledged.set(key, Date.now());
        acks.notify();
      }
    }
    const writers = [batches(0), batches(1), singles(0), singles(1)];
    await acks.until(() => acknowledged.size >= 5 * BATCH);

    const backup = path.join(dir, 'copy.db');
    const began = Date.now();
    backupRunning = true;
    const made = await cli('backup', backup, live);
    backupRunning = false;
    // Writes went on meanwhile, and are still going on: the copy must not have stopped them.
    const sizeAfterBackup = acknowledged.size;
    await acks.until(() => acknowledged.size >= sizeAfterBackup + BATCH);
    stop = true;
    await Promise.all(writers);
    expect(made.code, made.out).toBe(0);
    expect(made.out).toMatch(/integrity ok/);
    expect(batchesDuringBackup).toBeGreaterThan(0);

    const before = [...acknowledged].filter(([, at]) => at < began).map(([key]) => key);
    const inCopy = keysIn(backup);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((key) => !inCopy.has(key))).toEqual([]);
    // A single file: nothing beside it is needed.
    expect(readdirSync(dir).filter((f) => f.startsWith('copy.db'))).toEqual(['copy.db']);

    // Restored over the live database, which has gone on since (the service stopped first): the
    // copy's events exactly, and exact rollups.
    server.child.kill('SIGTERM');
    await server.exited;
    expect(keysIn(live).size).toBeGreaterThan(inCopy.size);
    const restoredFile = live;
    const restored = await cli('restore', backup, restoredFile);
    expect(restored.code, restored.out).toBe(0);
    expect(keysIn(restoredFile)).toEqual(inCopy);
    const { kept, rebuilt } = await rollupsAndRebuild(restoredFile);
    expect(kept).toEqual(rebuilt);

    // The restored server starts and serves what the copy holds.
    const again = await startServer({ DATABASE_URL: restoredFile });
    const db = new SQLite(restoredFile, { readonly: true });
    const resolutions = db
      .prepare("select count(*) as n from events where program_id = 'A' and kind = 'RESOLUTION_TIME'")
      .get() as { n: number };
    db.close();
    const dashboard = (await again.graphql(print(DashboardDocument), { programId: 'A' })).body.data.dashboard;
    expect(dashboard.resolvedCases).toBe(resolutions.n);
    expect(
      (await again.graphql(RECORD_RESOLUTION, { input: { programId: 'A', caseId: 'after', days: 2 } })).body.errors,
    ).toBeUndefined();
  }, 180_000);

  it('refuses a destination it cannot write with a clear error, leaving nothing behind and the live database untouched', async () => {
    const dir = folder();
    const live = path.join(dir, 'live.db');
    const server = await startServer({ DATABASE_URL: live });
    await program(server, 'A');
    const before = keysIn(live);

    const nowhere = path.join(dir, 'no-such-folder', 'copy.db');
    const refused = await cli('backup', nowhere, live);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(`backup failed: cannot write the backup to ${nowhere}`);
    expect(refused.out).not.toMatch(/\n\s+at /); // a message, not a stack
    await expect(backupDatabase(live, live)).rejects.toThrow('the backup may not overwrite the live database');
    expect(readdirSync(dir).filter((f) => !f.startsWith('live.db'))).toEqual([]);

    // The service goes on as before.
    expect(keysIn(live)).toEqual(before);
    const db = new SQLite(live, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    expect(
      (await server.graphql(RECORD_RESOLUTION, { input: { programId: 'A', caseId: 'c', days: 2 } })).body.errors,
    ).toBeUndefined();

    await expect(backupDatabase('postgres://db/kpi', path.join(dir, 'x.db'))).rejects.toThrow(/pg_dump/);
    await expect(backupDatabase(path.join(dir, 'missing.db'), path.join(dir, 'x.db'))).rejects.toThrow(BackupError);
  }, 60_000);

  it('refuses to restore a backup made by a newer version, with the message the service starts with, and changes nothing', async () => {
    const dir = folder();
    const live = path.join(dir, 'live.db');
    const server = await startServer({ DATABASE_URL: live });
    await program(server, 'A');
    expect(
      (await server.graphql(RECORD_RESOLUTION, { input: { programId: 'A', caseId: 'kept', days: 2 } })).body.errors,
    ).toBeUndefined();
    const newer = path.join(dir, 'newer.db');
    await backupDatabase(live, newer);
    server.child.kill('SIGTERM');
    await server.exited;
    // What a newer version leaves: a migration this one does not know, and changed rows.
    const db = new SQLite(newer);
    db.prepare("insert into kysely_migration (name, timestamp) values ('2099-01-01-01-future', '2099-01-01')").run();
    db.prepare("update events set case_id = 'changed'").run();
    db.close();

    const refused = await cli('restore', newer, live);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      'the database was migrated by a newer version of this service (migrations this version does not know: 2099-01-01-01-future)',
    );
    expect(keysIn(live)).toEqual(new Set(['kept']));
    const check = new SQLite(live, { readonly: true });
    expect((check.prepare('select case_id as c from events').get() as { c: string }).c).toBe('kept');
    check.close();
    // The same words the service itself refuses such a database with.
    await expect(restoreDatabase(newer, path.join(dir, 'elsewhere.db'))).rejects.toThrow(
      /refusing to start: run the newer version, or restore a backup taken before it ran/,
    );
    expect(existsSync(path.join(dir, 'elsewhere.db'))).toBe(false);
  }, 60_000);
});
