/**
 * What makes exports fast, held to what it replaces: instants written as toISOString writes them,
 * cells written as bytes as csvCell writes them, and rows read as arrays that are the rows Kysely
 * reads, never one a transaction has not committed.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { selectArrays } from '../src/db/array-rows.js';
import { openDatabase, type OpenDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { csvCell } from '../src/exports/csv.js';
import { ExportBuffer } from '../src/exports/export-buffer.js';
import { isoInstant } from '../src/exports/iso-instant.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { freshDatabaseUrl } from './helpers/app.js';

describe('isoInstant', () => {
  it('writes every instant as Date.prototype.toISOString does', () => {
    const YEAR_10000 = 253_402_300_800_000;
    fc.assert(
      fc.property(fc.integer({ min: -YEAR_10000, max: 2 * YEAR_10000 }), (ms) => {
        expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
    // The edges: of a day, of a leap day, of year 9999, and just before 1970.
    for (const ms of [
      0,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      YEAR_10000 - 1,
      YEAR_10000,
      -1,
    ])
      expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('ExportBuffer', () => {
  it('writes every cell as csvCell writes it, and every instant as toISOString does', () => {
    const YEAR_10000 = 253_402_300_800_000;
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('=1+1', '-x', '+3', '@a', '\tq', '\rr', 'a,b', 'q"q', 'l\nm', 'é', '日本'),
    );
    const number = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, -0, 1e21, 5e-324, 2 ** 53 + 2),
    );
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 2_000_000_000_000 }),
      fc.integer({ min: -YEAR_10000, max: 2 * YEAR_10000 }),
    );
    const out = new ExportBuffer(16);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.option(text), number, fc.option(instant))), (cells) => {
        out.clear();
        let expected = '';
        for (const [cell, n, ms] of cells) {
          out.cell(cell);
          out.comma();
          out.number(n);
          out.comma();
          out.instant(ms);
          out.endRecord();
          expected += `${csvCell(cell)},${csvCell(n)},${csvCell(ms === null ? null : isoInstant(ms))}\r\n`;
        }
        expect(out.written().toString('utf8')).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('selectArrays', () => {
  const opened: OpenDatabase[] = [];
  afterEach(async () => {
    for (const database of opened.splice(0)) await database.close();
  });

  async function database(): Promise<OpenDatabase> {
    const database = await openDatabase(freshDatabaseUrl());
    opened.push(database);
    await migrateToLatest(database);
    await insertProgram(database.db, { id: 'P', name: 'P', timezone: 'UTC', created_at: 0 });
    return database;
  }

  const row = (id: number) => ({
    id,
    program_id: 'P',
    kind: 'RESOLUTION_TIME' as const,
    case_id: `c-${id}`,
    value: id / 4,
    reason: id % 2 ? null : 'r,"x"',
    occurred_at: 1_700_000_000_000 + id,
    recorded_at: 1_700_000_000_000 + id,
    retracted_at: null,
    idempotency_key: null,
    payload_hash: null,
    api_key_id: null,
    attributes: id % 3 ? null : '{"office":"North"}',
  });
  const columns = ['id', 'case_id', 'value', 'reason', 'occurred_at', 'attributes'] as const;

  it('reads the rows and values Kysely reads, in the order selected', async () => {
    const { db } = await database();
    await db
      .insertInto('events')
      .values(Array.from({ length: 30 }, (_, i) => row(i + 1)))
      .execute();
    const select = db.selectFrom('events').select(columns).where('id', '>', 3).orderBy('id', 'desc').limit(20);
    const objects = await select.execute();
    const arrays = await selectArrays(db, select);
    expect(arrays).toEqual(objects.map((o) => columns.map((c) => o[c])));
    expect(arrays).toHaveLength(20);
  });

  it('waits for a transaction open on the connection, and never shows what it has not committed', async () => {
    const { db } = await database();
    await db.insertInto('events').values(row(1)).execute();
    const select = db.selectFrom('events').select(['id']).orderBy('id');
    let read: Promise<unknown[][]> | undefined;
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('events').values(row(2)).execute();
        read = selectArrays(db, select);
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await read).toEqual([[1]]);
  });
});
