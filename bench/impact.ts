/**
 * `npm run bench:impact` (issue 21; `-- --splits N`, 1,000 by default): does a 95% interval say
 * "significant" about 5% of the time when nothing changed? Synthetic before/after splits whose two
 * sides are drawn from the same distributions go through the service itself (recordEvents,
 * createAnnotation and the impact query, on a fresh SQLite database in this process), and the share
 * of splits each KPI calls significant is counted. Writes its section of bench/REPORT.md.
 *
 * Each split is one annotation, a day before it and a day after it (days: 1), three days from the
 * next: 20 to 80 resolutions a side (lognormal days, median 6; a conflict on 15% of the cases;
 * the program's standard is 7 days), and 20 to 80 satisfaction scores (1 to 5, 60% of 4 or more).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DAY } from '../src/kpis/time.js';
import { BENCH_ADMIN_KEY as ADMIN, random as seededRandom } from './dataset.js';
import { freshPath, IMPACT_SECTION, withSection } from './harness.js';

const SPLITS = Number(process.argv[process.argv.indexOf('--splits') + 1]) || 1_000;
const SEED = Number(process.env.BENCH_SEED ?? 20261207);
const START = Date.UTC(2020, 0, 1);
const STEP = 3 * DAY;
const NOW = START + (SPLITS + 10) * STEP;
const PROGRAM = 'SIM';
const BATCH = 5_000;

const random = seededRandom(SEED);
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const SCORES = [1, 2, 3, 4, 5];
const SCORE_WEIGHTS = [0.1, 0.1, 0.2, 0.3, 0.3];
function score(): number {
  let u = random();
  for (let i = 0; i < SCORES.length; i++) if ((u -= SCORE_WEIGHTS[i]) < 0) return SCORES[i];
  return 5;
}

interface EventInput {
  programId: string;
  kind: string;
  caseId: string;
  value?: number;
  occurredAt: string;
}

/** One side of a split: events in [start, start + DAY), drawn from the one distribution of every side. */
function side(start: number, tag: string): EventInput[] {
  const events: EventInput[] = [];
  const at = () => new Date(start + Math.floor(random() * DAY)).toISOString();
  const cases = between(20, 80);
  for (let i = 0; i < cases; i++) {
    const caseId = `${tag}-r${i}`;
    const days = Math.round(Math.exp(Math.log(6) + 0.6 * normal()) * 1000) / 1000;
    events.push({ programId: PROGRAM, kind: 'RESOLUTION_TIME', caseId, value: days, occurredAt: at() });
    if (random() < 0.15) events.push({ programId: PROGRAM, kind: 'CONFLICT', caseId, occurredAt: at() });
  }
  const responses = between(20, 80);
  for (let i = 0; i < responses; i++)
    events.push({ programId: PROGRAM, kind: 'SATISFACTION', caseId: `${tag}-s${i}`, value: score(), occurredAt: at() });
  return events;
}

async function gql(app: App, query: string, variables: Record<string, unknown> = {}) {
  const response = await app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

interface Tally {
  withInterval: number;
  significant: number;
}

async function main() {
  const config = loadConfig({
    DATABASE_URL: freshPath('impact.db'),
    ADMIN_API_KEY: ADMIN,
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const app = await buildApp(config, { now: () => NOW });
  const started = Date.now();
  try {
    await gql(app, 'mutation ($i: CreateProgramInput!) { createProgram(input: $i) { id } }', {
      i: { id: PROGRAM, name: 'Simulated program', resolutionStandardDays: 7 },
    });
    const ats: number[] = [];
    let pending: EventInput[] = [];
    let recorded = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      await gql(app, 'mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }', { e: pending });
      recorded += pending.length;
      pending = [];
    };
    for (let i = 0; i < SPLITS; i++) {
      // Annotations at any minute of the day, so the sides cut hours and days of the rollups anywhere.
      const at = START + i * STEP + DAY + between(0, 24 * 60 - 1) * 60_000;
      ats.push(at);
      pending.push(...side(at - DAY, `${i}b`), ...side(at, `${i}a`));
      if (pending.length >= BATCH) await flush();
    }
    await flush();
    const recordedMs = Date.now() - started;

    const tallies = new Map<string, Tally>();
    for (const at of ats) {
      const { createAnnotation } = await gql(
        app,
        'mutation ($i: CreateAnnotationInput!) { createAnnotation(input: $i) { id } }',
        { i: { programId: PROGRAM, at: new Date(at).toISOString(), title: 'Nothing changed' } },
      );
      const { impact } = await gql(
        app,
        'query ($id: ID!) { impact(annotationId: $id, days: 1) { rows { kpi significant } } }',
        { id: createAnnotation.id },
      );
      for (const row of impact.rows as { kpi: string; significant: boolean | null }[]) {
        if (row.significant === null) continue;
        const tally = tallies.get(row.kpi) ?? { withInterval: 0, significant: 0 };
        tally.withInterval++;
        if (row.significant) tally.significant++;
        tallies.set(row.kpi, tally);
      }
    }
    const totalMs = Date.now() - started;
    report(tallies, recorded, recordedMs, totalMs);
  } finally {
    await app.stop();
  }
}

function report(tallies: Map<string, Tally>, recorded: number, recordedMs: number, totalMs: number) {
  const pct = (t: Tally) => (100 * t.significant) / t.withInterval;
  const within = (t: Tally) => pct(t) >= 3 && pct(t) <= 7;
  const all = [...tallies.values()].reduce(
    (sum, t) => ({ withInterval: sum.withInterval + t.withInterval, significant: sum.significant + t.significant }),
    { withInterval: 0, significant: 0 },
  );
  const rows = [...tallies].map(
    ([kpi, t]) =>
      `| ${kpi} | ${t.withInterval} | ${t.significant} | ${pct(t).toFixed(1)}% | ${within(t) ? 'yes' : '**no**'} |`,
  );
  const text = `## Impact: false positives with no true change (\`npm run bench:impact\`, issue 21)

${SPLITS} synthetic before/after splits with no true change (both sides drawn from the same
distributions; seed ${SEED}), each through the service itself: \`recordEvents\`, \`createAnnotation\`,
then the \`impact\` query (days: 1) on a fresh SQLite database. A 95% interval should call about 5%
of them "significant"; the goal is 3–7% for every KPI that has an interval (with 1,000 splits, one
standard error of a 5% share is 0.7 points).

| KPI | splits with an interval | "significant" | share | within 3–7% |
|---|---:|---:|---:|---|
${rows.join('\n')}
| all interval KPIs | ${all.withInterval} | ${all.significant} | ${pct(all).toFixed(1)}% | ${within(all) ? 'yes' : '**no**'} |

Welch's interval for the averages (resolution days lognormal, median 6; scores 1–5), Newcombe's
for the percentages (CSAT 60%, conflicts on 15% of cases, within a 7-day standard about 60%).
${recorded.toLocaleString('en-US')} events recorded in ${(recordedMs / 1000).toFixed(0)} s, the whole run ${(totalMs / 1000).toFixed(0)} s
(${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end: times are not the point here).`;
  console.log(text);
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'REPORT.md');
  writeFileSync(file, `${withSection(readFileSync(file, 'utf8'), IMPACT_SECTION, text).trimEnd()}\n`);
  if (![...tallies.values()].every(within)) process.exitCode = 1;
}

await main();
