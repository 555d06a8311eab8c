/**
 * Drill-down and export (issue 19): `events` first page and a deep page by keyset, and a CSV
 * export's rows/s and server RSS growth, each beside a baseline from the same run (the machine is
 * shared). DRILLDOWN_EVENTS sets the size (default 300,000, one program); DRILLDOWN_DEEP the
 * position of the deep page (default a third of the events).
 *   npx tsx bench/drilldown.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { eventPage, type EventQuery } from '../src/events/event-list.js';
import { addEvents, BENCH_ADMIN_KEY, createDatabase } from './dataset.js';

const N = Number(process.env.DRILLDOWN_EVENTS ?? 300_000);
const DEEP = Number(process.env.DRILLDOWN_DEEP ?? Math.floor(N / 3));
const PROGRAM = { id: 'bench', timezone: 'UTC' };
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

const dir = mkdtempSync(path.join(tmpdir(), 'kpi-drilldown-'));
const file = path.join(dir, 'metrics.db');
try {
  await createDatabase(file, [PROGRAM]);
  const end = Date.now() - 86_400_000;
  let t0 = performance.now();
  await addEvents(file, N, end - 365 * 86_400_000, end, 19, [PROGRAM]);
  console.log(`built ${N} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const database = await openDatabase(file);
  const q: EventQuery = {
    program: PROGRAM,
    from: null,
    to: null,
    kinds: null,
    filter: [],
    caseId: null,
    includeRetracted: false,
    orderBy: 'OCCURRED_AT_DESC',
  };
  const raw = new SQLite(file, { readonly: true });
  const deepRow = raw
    .prepare(
      'select occurred_at, id from events where program_id = ? order by occurred_at desc, id desc limit 1 offset ?',
    )
    .get(PROGRAM.id, DEEP) as { occurred_at: number; id: number };
  const byId = raw.prepare('select * from events where id = ?');
  const timings = { first: [] as number[], deep: [] as number[], lookup: [] as number[] };
  for (let i = 0; i < 300; i++) {
    t0 = performance.now();
    await eventPage(database.db, q, 50, null);
    timings.first.push(performance.now() - t0);
    t0 = performance.now();
    await eventPage(database.db, q, 50, { key: deepRow.occurred_at, id: deepRow.id });
    timings.deep.push(performance.now() - t0);
    t0 = performance.now();
    for (let k = 0; k < 50; k++) byId.get(1 + ((i * 50 + k) % N));
    timings.lookup.push(performance.now() - t0);
  }
  const [first, deep, lookup] = [p95(timings.first), p95(timings.deep), p95(timings.lookup)];
  console.log(
    `events page of 50, p95: first ${first.toFixed(2)} ms, deep (after ${DEEP}) ${deep.toFixed(2)} ms, ` +
      `deep/first ${(deep / first).toFixed(2)}x; baseline 50 primary-key reads ${lookup.toFixed(2)} ms`,
  );
  await database.close();

  // Baseline: the same rows read by better-sqlite3 alone, nothing written.
  t0 = performance.now();
  let rows = 0;
  for (const _ of raw.prepare('select * from events order by occurred_at, id').iterate()) rows++;
  const rawRate = rows / ((performance.now() - t0) / 1000);
  raw.close();

  const app = await buildApp(
    loadConfig({
      DATABASE_URL: file,
      ADMIN_API_KEY: BENCH_ADMIN_KEY,
      PORT: '0',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '0',
    }),
  );
  const { url } = await app.start();
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  t0 = performance.now();
  const response = await fetch(`${new URL(url).origin}/export/events.csv?programId=${PROGRAM.id}`, {
    headers: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
  });
  let lines = 0;
  for await (const chunk of response.body!) for (const byte of chunk as Uint8Array) if (byte === 10) lines++;
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  console.log(
    `export CSV: ${lines - 1} rows in ${seconds.toFixed(2)} s = ${Math.round((lines - 1) / seconds)} rows/s ` +
      `(raw better-sqlite3 read ${Math.round(rawRate)} rows/s, ratio ${((lines - 1) / seconds / rawRate).toFixed(2)}); ` +
      `RSS growth (server and client in one process) ${((peak - before) / 1e6).toFixed(1)} MB`,
  );
  await app.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
