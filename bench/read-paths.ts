/**
 * The four reads of issue 18's targets (bench/breakdowns.ts's FILTERED, BREAKDOWN, BREAKDOWN_TOTALS
 * and the two-dimension filter), asked over HTTP of a server in this process, on a dataset
 * bench/breakdowns.ts has built. For read-latency work: short runs, p50/p95 per read, the bytes of
 * each answer, and a digest of each answer so a change can show it answers the same.
 *
 *   npx tsx bench/breakdowns.ts --events 200000 --build-only   # once
 *   NODE_ENV=production npx tsx bench/read-paths.ts [--events 200000] [--runs 20] [--encoding gzip]
 *     [--dense 480000]   # that many more events for the program asked about: its density at 10M
 *   NODE_ENV=production node --cpu-prof --import tsx bench/read-paths.ts   # where the time goes
 *   ... --client   # also what a client spends decoding and parsing each answer
 *
 * The client reads the bytes and does not parse them, so its own cost stays out of the figures. On
 * a loaded machine wall times swing widely: the CPU time this process spent on each request (GC
 * threads included, so it may exceed the wall time) is steadier.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import zlib from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { addEvents, BENCH_ADMIN_KEY, PROGRAMS } from './dataset.js';
import { BREAKDOWN, BREAKDOWN_TOTALS, FILTERED } from './dimensions.js';
import { CHANNELS, OFFICES } from './dimensions.js';
import { dataDir, END, gql, SPAN, YEAR } from './harness.js';

const flag = (name: string, otherwise: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : otherwise;
};
const EVENTS = Number(flag('events', '200000'));
const RUNS = Number(flag('runs', '20'));
/** What the client accepts: bench/breakdowns.ts asks with fetch, which sends gzip, deflate, br. */
const ENCODING = flag('encoding', 'gzip, deflate, br');
const ONLY = flag('only', '');
/** Also time what a client does with each answer beyond its bytes (bench:breakdowns' fetch does both). */
const CLIENT = process.argv.includes('--client');

const DENSE = Number(flag('dense', '0'));
const PROGRAM = PROGRAMS.find((p) => p.timezone === 'Asia/Kolkata')!;

const built = path.join(dataDir, `breakdowns-${EVENTS}.db`);
if (!existsSync(built))
  throw new Error(`${built} missing: npx tsx bench/breakdowns.ts --events ${EVENTS} --build-only`);
/**
 * The reads are one program's, bounded by its buckets and values: a program of the 10M dataset
 * holds 500,000 events, so these reads see its density once that many are added to it alone
 * (built once, reused).
 */
const source = DENSE > 0 ? path.join(dataDir, `breakdowns-${EVENTS}-dense-${DENSE}.db`) : built;
if (!existsSync(source)) {
  const partial = `${source}.partial`;
  copyFileSync(built, partial);
  await addEvents(partial, DENSE, END - SPAN, END, 4242, [PROGRAM], true, (n) => console.log(`  ${n} events added`));
  renameSync(partial, source);
}
// A copy, so the keys this run creates never change the dataset's file.
const file = path.join(os.tmpdir(), `read-paths-${process.pid}.db`);
copyFileSync(source, file);

const app = await buildApp(
  loadConfig({
    DATABASE_URL: file,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    PORT: '0',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    LIMIT_COST: '1000000',
  }),
);
const { url } = await app.start();
const key = (
  await gql(url, BENCH_ADMIN_KEY, 'mutation { createApiKey(input: { name: "reads", role: VIEWER }) { key } }')
).createApiKey.key as string;

const byOffice = [{ key: 'office', values: [OFFICES[6]] }];
const READS: [string, string, unknown][] = [
  ['filtered on office', FILTERED, byOffice],
  ['breakdown by office with series', BREAKDOWN, null],
  ['breakdown by office without series', BREAKDOWN_TOTALS, null],
  ['two-dimension filter', FILTERED, [...byOffice, { key: 'channel', values: [CHANNELS[0]] }]],
  ['unfiltered', FILTERED, null],
];

/** The request body of one of the reads: the program's one-year range, with `filter`. */
const bodyOf = (query: string, filter: unknown) =>
  JSON.stringify({
    query,
    variables: {
      programId: PROGRAM.id,
      from: new Date(YEAR.from).toISOString(),
      to: new Date(YEAR.to).toISOString(),
      filter,
    },
  });

function ask(query: string, filter: unknown) {
  const body = bodyOf(query, filter);
  return new Promise<{ ms: number; cpu: number; bytes: Buffer }>((resolve, reject) => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'accept-encoding': ENCODING,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const cpu = process.cpuUsage(cpu0);
          resolve({ ms: performance.now() - t0, cpu: (cpu.user + cpu.system) / 1000, bytes: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The client's own work on an answer: brotli decoding (of the server's encoding, quality 1 above 256 KB) and JSON.parse. */
function clientCosts(identity: Buffer): string {
  const quality = identity.byteLength >= 256 * 1024 ? 1 : 4;
  const encoded = zlib.brotliCompressSync(identity, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality } });
  const timed = (fn: () => unknown) => {
    const list: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      fn();
      list.push(performance.now() - t0);
    }
    return list.sort((a, b) => a - b)[Math.floor(list.length / 2)].toFixed(1);
  };
  const decode = timed(() => zlib.brotliDecompressSync(encoded));
  const parse = timed(() => JSON.parse(identity.toString('utf8')));
  return `brotli decoding ${decode} ms, UTF-8 decoding and JSON.parse ${parse} ms`;
}

const loadBefore = os.loadavg();
console.log(`${EVENTS} events, ${RUNS} runs each, accept-encoding: ${ENCODING}`);
console.log(
  '| read | p50 ms | p95 ms | CPU ms p50 | bytes | digest (identity answer) |\n| --- | ---: | ---: | ---: | ---: | --- |',
);
for (const [name, query, filter] of READS) {
  if (ONLY && !name.includes(ONLY)) continue;
  const identity = await new Promise<Buffer>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(bodyOf(query, filter));
  });
  if (identity.includes('"errors"')) throw new Error(`${name}: ${identity.toString().slice(0, 500)}`);
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  for (let i = 0; i < 3; i++) await ask(query, filter);
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await ask(query, filter);
    times.push(r.ms);
    cpu.push(r.cpu);
    bytes = r.bytes.length;
  }
  const p = (list: number[], q: number) =>
    [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.ceil(q * list.length) - 1)].toFixed(1);
  console.log(`| ${name} | ${p(times, 0.5)} | ${p(times, 0.95)} | ${p(cpu, 0.5)} | ${bytes} | ${digest} |`);
  if (CLIENT) console.log(`  client, p50 of ${RUNS}: ${clientCosts(identity)}`);
}
console.log(
  `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (client included)`,
);
console.log(
  `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at the start, ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end`,
);
await app.stop();
for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
