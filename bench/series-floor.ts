/**
 * `npx tsx bench/series-floor.ts [--events N] [--runs N] [--rounds N]`: what issue 18's breakdown
 * with series (50 rows × a 365-point DAY series × 10 fields) costs before any rollup is read. On a
 * dataset bench:breakdowns has built, the service answers the breakdown once; then, with the
 * client bench:breakdowns uses (fetch, then response.json()), in alternating rounds:
 *  - the service itself, the read bench:breakdowns times;
 *  - graphql-yoga with the service's compiled execution and compression, whose resolvers hand back
 *    that answer's own plain objects (bench/series-floor-server.ts): GraphQL, JSON and HTTP alone;
 *  - the answer's bytes from a bare HTTP server through the service's compression: JSON and HTTP alone.
 * Every side must answer the very same JSON (checked by digest). Writes its section of bench/REPORT.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BREAKDOWN } from './dimensions.js';
import {
  createKey,
  dataDir,
  fmt,
  ms,
  nextMessage,
  percentiles,
  SERIES_FLOOR_SECTION,
  startServer,
  tsxFork,
  withSection,
  YEAR,
} from './harness.js';
import { PROGRAMS } from './dataset.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
  },
});
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const dataset = path.join(dataDir, `breakdowns-${values.events}.db`);
if (!existsSync(dataset))
  throw new Error(`${dataset} missing: npx tsx bench/breakdowns.ts --events ${values.events} --build-only`);

/** The program bench:breakdowns reads (Asia/Kolkata), its one-year range. */
const PROGRAM = PROGRAMS.find((p) => p.timezone === 'Asia/Kolkata')!;
const VARIABLES = {
  programId: PROGRAM.id,
  from: new Date(YEAR.from).toISOString(),
  to: new Date(YEAR.to).toISOString(),
  filter: null,
};

/** The breakdown with series, asked as bench:breakdowns' client asks it (fetch, which accepts gzip, deflate and br). */
const breakdownFrom = (url: string, key: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: BREAKDOWN, variables: VARIABLES }),
  });

/** One request: the time to the parsed answer, and a digest of its decoded bytes. */
async function ask(url: string, key: string): Promise<{ ms: number; digest: string }> {
  const t0 = performance.now();
  const response = await breakdownFrom(url, key);
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: unknown[] };
  const elapsed = performance.now() - t0;
  if (body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return { ms: elapsed, digest: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

async function floorServer(mode: 'bytes' | 'graphql', answerFile: string) {
  const child = tsxFork('series-floor-server.ts', [mode, answerFile], `floor-${mode}`);
  const { url } = await nextMessage<{ url: string }>(child, 'ready');
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

async function main() {
  const app = await startServer('app', dataset, { LIMIT_COST: '1000000' });
  const key = await createKey(app.url, 'VIEWER');
  const answerFile = path.join(dataDir, 'series-floor-answer.json');
  const answer = Buffer.from(await (await breakdownFrom(app.url, key)).arrayBuffer());
  writeFileSync(answerFile, answer);
  const sides = {
    service: { url: app.url, stop: () => app.stop() },
    graphql: await floorServer('graphql', answerFile),
    bytes: await floorServer('bytes', answerFile),
  };
  const samples: Record<keyof typeof sides, number[]> = { service: [], graphql: [], bytes: [] };
  const digests = new Set<string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, side] of Object.entries(sides) as [keyof typeof sides, (typeof sides)['bytes']][]) {
        for (let i = 0; i < 5; i++) digests.add((await ask(side.url, key)).digest);
        for (let i = 0; i < RUNS; i++) samples[name].push((await ask(side.url, key)).ms);
        const { p50, p95 } = percentiles(samples[name].slice(-RUNS));
        console.log(`round ${round + 1}, ${name}: p50 ${ms(p50)} ms, p95 ${ms(p95)} ms`);
      }
    }
  } finally {
    for (const side of Object.values(sides)) await side.stop();
  }
  if (digests.size !== 1) throw new Error(`the sides answered differently: ${[...digests].join(', ')}`);
  const p = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, percentiles(v)])) as Record<
    keyof typeof sides,
    { p50: number; p95: number }
  >;
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  const row = (side: string, name: keyof typeof sides) => `| ${side} | ${ms(p[name].p50)} | ${ms(p[name].p95)} |`;
  const section = `## The breakdown with series before any read (\`npx tsx bench/series-floor.ts\`)

The one-year breakdown by office with DAY series of bench:breakdowns (${fmt(answer.byteLength)} bytes of JSON: 50 rows
× 366 points × 10 fields), asked by bench:breakdowns' client (fetch, then the JSON parsed), ${ROUNDS} alternating
rounds of ${RUNS} per side, every side answering the same bytes (one digest). The floors answer the service's
own answer from memory, in a process of their own: graphql-yoga with the service's compiled execution and
compression over a schema of the answer's types, whose resolvers return its plain objects; and the bytes
alone through the service's compression. Load average at the end: ${load} (2 cores, shared).

| side | p50 ms | p95 ms |
| --- | ---: | ---: |
${row('the service (reads the rollups)', 'service')}
${row('floor: GraphQL, JSON and HTTP, no reads', 'graphql')}
${row('floor: the bytes, compressed, sent and parsed', 'bytes')}

Issue 18's goal for this read is p95 < 100 ms.
`;
  const report = path.join(path.dirname(dataDir), 'REPORT.md');
  writeFileSync(report, withSection(readFileSync(report, 'utf8'), SERIES_FLOOR_SECTION, section));
  console.log(section);
}

await main();
