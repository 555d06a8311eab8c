/**
 * `npm run bench:compression`: the year's all-programs dashboard (DAY series, every KPI) and the
 * page's script, as identity, gzip and br: bytes on the wire, and time to the last byte over
 * loopback (p50/p95, the client's decoding excluded), against a server process on 100,000 events.
 * Writes its section of bench/REPORT.md (between the compression markers; `npm run bench` keeps it).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAST_FROM_BYTES } from '../src/http/compression.js';
import { addEvents, createDatabase } from './dataset.js';
import {
  COMPRESSION_SECTION,
  createKey,
  DASHBOARD,
  END,
  fmt,
  ms,
  percentiles,
  SPAN,
  startServer,
  withSection,
  YEAR,
} from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const EVENTS = 100_000;

/** One request; bytes as sent and the time to the last of them. */
function fetchRaw(url: string, init: { method?: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ bytes: number; ms: number; encoding: string }>((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        resolve({ bytes, ms: performance.now() - t0, encoding: String(res.headers['content-encoding'] ?? 'identity') }),
      );
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const ENCODINGS = ['identity', 'gzip', 'br'];

/** The encodings take turns request by request, so load from elsewhere on the machine falls on all alike. */
async function measure(ask: (encoding: string) => Promise<{ bytes: number; ms: number; encoding: string }>) {
  for (let i = 0; i < 10; i++) for (const encoding of ENCODINGS) await ask(encoding); // warm-up
  const samples = new Map(ENCODINGS.map((e) => [e, [] as number[]]));
  const bytes = new Map<string, number>();
  for (let i = 0; i < RUNS; i++) {
    for (const encoding of ENCODINGS) {
      const answer = await ask(encoding);
      if (answer.encoding !== encoding) throw new Error(`asked for ${encoding}, got ${answer.encoding}`);
      samples.get(encoding)!.push(answer.ms);
      bytes.set(encoding, answer.bytes);
    }
  }
  return ENCODINGS.map((encoding) => ({
    encoding,
    bytes: bytes.get(encoding)!,
    ...percentiles(samples.get(encoding)!),
  }));
}

async function main() {
  const dir = path.join(here, 'data', 'compression');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bench.db');
  await createDatabase(file);
  await addEvents(file, EVENTS, END - SPAN, END, 7);
  const app = await startServer('app', file);
  try {
    const key = await createKey(app.url, 'VIEWER');
    const body = JSON.stringify({
      query: DASHBOARD,
      variables: { programId: null, from: new Date(YEAR.from).toISOString(), to: new Date(YEAR.to).toISOString() },
    });
    const dashboard = await measure((encoding) =>
      fetchRaw(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'accept-encoding': encoding },
        body,
      }),
    );
    const origin = new URL(app.url).origin;
    const html = readFileSync(path.join(here, '..', 'web', 'dist', 'index.html'), 'utf8');
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    if (!script) throw new Error('the page is not built: npm run build:web');
    const page = await measure((encoding) =>
      fetchRaw(`${origin}${script}`, { headers: { 'accept-encoding': encoding } }),
    );
    writeSection(dashboard, page);
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Row = { encoding: string; bytes: number; p50: number; p95: number };

function table(rows: Row[]) {
  const identity = rows[0];
  // What the bytes cost on a 10 Mbit/s link (a remote office), computed from the size alone.
  const link = (bytes: number) => ms((bytes * 8) / 10_000);
  return [
    '| encoding | bytes | vs identity | p50 ms | p95 ms | transfer at 10 Mbit/s, ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.encoding} | ${fmt(r.bytes)} | ${fmt(r.bytes / identity.bytes, 3)}x | ${ms(r.p50)} | ${ms(r.p95)} | ${link(r.bytes)} |`,
    ),
  ].join('\n');
}

function writeSection(dashboard: Row[], page: Row[]) {
  const section = `## Compression (\`npm run bench:compression\`)

${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${new Date().toISOString().slice(0, 10)}; ${RUNS} requests per row
over loopback, the three encodings taking turns, after 10 rounds of warm-up; times are to the last byte received, the
client's decoding excluded. Answers above 1 KiB are compressed (gzip level 6, br quality 4:
\`compression\`'s defaults; from ${fmt(FAST_FROM_BYTES / 1024)} KiB up gzip level 1 and br quality 1, see
src/http/compression.ts); the server picks br when both are offered.

The year's all-programs dashboard (${fmt(EVENTS)} events, DAY series, every KPI):

${table(dashboard)}

The page's script:

${table(page)}

Over loopback, br's p50 is ${fmt(dashboard[2].p50 / dashboard[0].p50, 2)}x identity's for the dashboard (the
encoder's time against writing ${fmt(dashboard[0].bytes / dashboard[2].bytes, 1)}x the bytes) and
${fmt(page[2].p50 / page[0].p50, 2)}x for the script (a file read is cheap, its compression is not,
and it is compressed anew on each request; browsers cache it for good, \`immutable\`). The last
column is what the bytes alone take on a 10 Mbit/s link, where the saving is the point.`;
  const reportFile = path.join(here, 'REPORT.md');
  writeFileSync(reportFile, withSection(readFileSync(reportFile, 'utf8'), COMPRESSION_SECTION, section));
  console.log(section);
}

await main();
