/**
 * `npx tsx bench/rss-ingest.ts`: a server's RSS before and after 8 s of live batches with three
 * attributes on a fresh database (the ingesting part of bench:breakdowns' memory figure, alone).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { BENCH_ADMIN_KEY, createDatabase, PROGRAMS } from './dataset.js';
import { DIMENSIONS } from './dimensions.js';
import { batchJob, createKey, fmt, freshPath, gql, load, startServer } from './harness.js';

const status = (pid: number) => {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (f: string) => Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(text)![1]) / 1024;
  return `RSS ${fmt(kb('VmRSS'))} MB (anon ${fmt(kb('RssAnon'))}, file ${fmt(kb('RssFile'))}), peak ${fmt(kb('VmHWM'))} MB`;
};
const file = freshPath('rss-ingest.db');
await createDatabase(file);
const app = await startServer('app', file);
try {
  for (const p of PROGRAMS)
    for (const { key, label, maxValues } of DIMENSIONS)
      await gql(
        app.url,
        BENCH_ADMIN_KEY,
        'mutation ($p: ID!, $i: DimensionInput!) { addDimension(programId: $p, input: $i) { id } }',
        { p: p.id, i: { key, label, maxValues } },
      );
  const key = await createKey(app.url, 'INTEGRATION');
  console.log(`started: ${status(app.child.pid!)}`);
  await load(batchJob(app.url, key, 1_000, 'live', true));
  console.log(`after 1 s of batches: ${status(app.child.pid!)}`);
  const r = await load(batchJob(app.url, key, 8_000, 'live', true));
  console.log(
    `after 8 s more (${fmt(((r.requests - r.failures) * 1000) / r.seconds)} events/s): ${status(app.child.pid!)}; load ${os.loadavg()[0].toFixed(1)}`,
  );
} finally {
  await app.stop();
}
