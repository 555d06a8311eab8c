/**
 * Big datasets, fast: events generated in time order and inserted with one prepared statement,
 * and folded into the rollups by the service's own functions (rollupDeltas, applyRollupDeltas),
 * so the rollups a dashboard reads are the ones the write path would have written.
 */
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database, EventKind } from '../src/db/types.js';
import {
  applyRollupDeltas,
  ownAggregate,
  ROLLUP_COLUMNS,
  type RollupDelta,
  type RollupEvent,
  rollupDeltas,
  rowOf,
} from '../src/kpis/rollups.repository.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import { ALL_PROGRAMS } from '../src/kpis/rollup-levels.js';
import { DAY } from '../src/kpis/time.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { attributesOf } from './dimensions.js';

/** The bootstrap admin key of the servers under test. */
export const BENCH_ADMIN_KEY = 'bench-admin-key';

export interface BenchProgram {
  id: string;
  timezone: string;
}

const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Australia/Sydney',
  'America/Los_Angeles',
  'Asia/Kathmandu',
];
/** Twenty program offices in a mix of zones, as a state with dozens of programs might run. */
export const PROGRAMS: BenchProgram[] = Array.from({ length: 20 }, (_, i) => ({
  id: `program-${String(i + 1).padStart(2, '0')}`,
  timezone: ZONES[i % ZONES.length],
}));

/** A small seeded generator, so every run stores the same events. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchEvent extends RollupEvent {
  id: number;
  case_id: string;
  /** JSON of office, channel and case type; absent without dimensions. */
  attributes?: string | null;
}

/**
 * `count` events in [start, end), in time order: 60% resolution times (log-normal, median 3 days,
 * continuous, so histograms hold as many bins as real data would), 30% scores 1-5, 10% conflicts.
 * `withAttributes`: each also carries an office, a channel and a case type (bench/dimensions.ts),
 * drawn after the rest so the events themselves are the same either way.
 */
export function* generateEvents(
  count: number,
  start: number,
  end: number,
  firstId: number,
  seed: number,
  programs = PROGRAMS,
  withAttributes = false,
) {
  const next = random(seed);
  const step = (end - start) / count;
  for (let k = 0; k < count; k++) {
    const r = next();
    const kind: EventKind = r < 0.6 ? 'RESOLUTION_TIME' : r < 0.9 ? 'SATISFACTION' : 'CONFLICT';
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const value =
      kind === 'RESOLUTION_TIME'
        ? Math.min(36_500, 3 * Math.exp(z))
        : kind === 'SATISFACTION'
          ? 1 + Math.floor(next() * 5)
          : null;
    const event: BenchEvent = {
      id: firstId + k,
      program_id: programs[Math.floor(next() * programs.length)].id,
      kind,
      case_id: `case-${firstId + k}`,
      value,
      occurred_at: Math.floor(start + (k + next()) * step),
    };
    if (withAttributes) event.attributes = JSON.stringify(attributesOf(next(), next(), next()));
    yield event;
  }
}

/** A fresh, migrated database file holding the programs. */
export async function createDatabase(path: string, programs = PROGRAMS): Promise<void> {
  const database = await openDatabase(path);
  await migrateToLatest(database);
  await ensureRollups(database); // marks the (empty) rollups as current, so servers never rebuild them
  for (const p of programs)
    await insertProgram(database.db, { id: p.id, name: p.id, timezone: p.timezone, created_at: 0 });
  await database.close();
}

export const INSERT_EVENT =
  'insert into events (id, program_id, kind, case_id, value, reason, occurred_at, recorded_at, retracted_at, idempotency_key, payload_hash, api_key_id) ' +
  'values (?, ?, ?, ?, ?, null, ?, ?, null, null, null, null)';

/** INSERT_EVENT with the event's attributes (JSON, events/attributes.ts) as the last parameter. */
export const INSERT_EVENT_WITH_ATTRIBUTES =
  'insert into events (id, program_id, kind, case_id, value, reason, occurred_at, recorded_at, retracted_at, idempotency_key, payload_hash, api_key_id, attributes) ' +
  'values (?, ?, ?, ?, ?, null, ?, ?, null, null, null, null, ?)';

/**
 * Appends `count` events spread over [start, end) and folds them into the rollups (with
 * `withAttributes`, those of their dimension values too: the programs must have declared the
 * dimensions, and every value must be registered already, as bench/breakdowns.ts does).
 *
 * The events are generated in time order, so a bucket that starts well before the latest event
 * can take no more of them: the deltas of the service's own rollupDeltas are kept and summed
 * across chunks, and each is encoded by the service's rowOf once, when its bucket is complete,
 * with no read. A bucket stored already (a dataset grown, or events recorded through the API
 * first) is merged into its row by the service's applyRollupDeltas instead.
 *
 * New rows go to a staging table first and into the rollups at the end, in key order: each week
 * completes buckets of thousands of rollup ids, so inserted as they come they land on as many
 * leaf pages of the large rows' B-tree, far more than the page cache holds (a 1M-event build
 * spent most of its time there); appended in key order, each page is written once.
 */
export async function addEvents(
  path: string,
  count: number,
  start: number,
  end: number,
  seed: number,
  programs = PROGRAMS,
  withAttributes = false,
  /** Told the events loaded so far after each chunk (a long load says how far it is). */
  progress?: (loaded: number) => void,
): Promise<void> {
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF'); // a loader, not the measured write path
  // The events' indexes take values in random order: a larger cache keeps their pages in memory.
  sqlite.pragma('cache_size = -262144');
  const insert = sqlite.prepare(withAttributes ? INSERT_EVENT_WITH_ATTRIBUTES : INSERT_EVENT);
  const columns = ROLLUP_COLUMNS.join(', ');
  sqlite.exec(`create temp table staged_rollups as select ${columns} from rollups where false`);
  const stage = sqlite.prepare(
    `insert into staged_rollups (${columns}) values (${ROLLUP_COLUMNS.map(() => '?').join(', ')})`,
  );
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const firstId =
    Number((sqlite.prepare('select max(id) as max from events').get() as { max: number | null }).max ?? 0) + 1;
  const keyOf = (level: string, programId: string, bucketStart: number) =>
    `${level}\u0000${programId}\u0000${bucketStart}`;
  const stored = new Set<string>();
  for (const [programId, level, bucketStart] of sqlite
    .prepare('select program_id, level, bucket_start from rollups')
    .raw()
    .iterate() as Iterable<[string, string, number]>)
    stored.add(keyOf(level, programId, Number(bucketStart)));
  const zones = new Map(programs.map((p) => [p.id, p.timezone]));
  const open = new Map<string, RollupDelta>();
  const chunk: BenchEvent[] = [];
  let loaded = 0;
  /** Writes the deltas whose buckets end before `before` (all of them when it is infinite). */
  const settle = async (before: number) => {
    const merged: RollupDelta[] = [];
    sqlite.transaction(() => {
      for (const [k, d] of open) {
        // A month is at most 31 days and a day 25 hours, whatever the zone.
        if (d.bucketStart + (d.level === 'M' ? 32 : 2) * DAY > before) continue;
        open.delete(k);
        if (stored.has(k)) merged.push(d);
        else {
          const row = rowOf(d.programId, d.level, d.bucketStart, d.aggregate);
          stage.run(ROLLUP_COLUMNS.map((c) => row[c]));
        }
      }
    })();
    if (merged.length > 0) await db.transaction().execute((trx) => applyRollupDeltas(trx, merged));
  };
  const flush = async () => {
    sqlite.transaction(() => {
      for (const e of chunk) {
        if (withAttributes)
          insert.run(e.id, e.program_id, e.kind, e.case_id, e.value, e.occurred_at, e.occurred_at, e.attributes);
        else insert.run(e.id, e.program_id, e.kind, e.case_id, e.value, e.occurred_at, e.occurred_at);
      }
    })();
    for (const d of rollupDeltas(chunk, zones, 1, new Map(), ALL_PROGRAMS)) {
      const k = keyOf(d.level, d.programId, d.bucketStart);
      const known = open.get(k);
      if (known) known.aggregate.merge(d.aggregate);
      // Deltas may share one aggregate (RollupDelta.shared); the one kept open is summed into.
      else open.set(k, { ...d, aggregate: ownAggregate(d), shared: false });
    }
    await settle(chunk[chunk.length - 1].occurred_at);
    loaded += chunk.length;
    progress?.(loaded);
    chunk.length = 0;
  };
  // Chunks of at most a week: a chunk's deltas are a week's buckets however sparse the dataset.
  for (const event of generateEvents(count, start, end, firstId, seed, programs, withAttributes)) {
    if (chunk.length === 200_000 || (chunk.length > 0 && event.occurred_at - chunk[0].occurred_at >= 7 * DAY))
      await flush();
    chunk.push(event);
  }
  if (chunk.length) await flush();
  await settle(Number.POSITIVE_INFINITY);
  sqlite.exec(
    `insert into rollups (${columns}) select ${columns} from staged_rollups order by program_id, level, bucket_start`,
  );
  sqlite.exec('drop table staged_rollups');
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  await db.destroy();
}
