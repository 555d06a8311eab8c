/**
 * `npm run bench:forecast`: backtests of the forecast method (src/forecasts/forecast.ts) on years of
 * synthetic history with a known weekly and yearly pattern and a trend, and on the demo's data
 * (scripts/demo-data.ts, replayed in memory). At each backtest a period of 30, 91 or 365 days is cut
 * at a random elapsed day, the method sees only the days before it, and the period's realized value
 * is compared with the forecast, with its 80% interval, and with the naive "stay at the run rate"
 * forecast (counts: so far × length ÷ elapsed; ratios: the value so far) in the same run.
 * Writes its section of bench/REPORT.md. `-- --quick` for fewer backtests.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { type Day, forecast, type FutureDay } from '../src/forecasts/forecast.js';
import { Aggregate } from '../src/kpis/aggregate.js';
import { kpi, type KpiKey } from '../src/kpis/registry.js';
import { eventsOfDay, PROGRAMS } from '../scripts/demo-data.js';

const quick = process.argv.includes('--quick');
const BACKTESTS_PER_SERIES = quick ? 60 : 300;

/** A seeded generator (mulberry32), so every run backtests the same cases. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rand: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rand)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

interface Series {
  name: string;
  key: KpiKey;
  days: Day[];
}

const WEEKDAY = [1.15, 1.1, 1.05, 1, 0.95, 0.45, 0.3];

/** Four years of daily aggregates: volume with a winter peak, a weekly cycle and growth; slower service in busy months. */
function synthetic(seed: number): Aggregate[] {
  const rand = seeded(seed);
  const start = DateTime.utc(2022, 1, 3);
  const out: Aggregate[] = [];
  for (let d = 0; d < 4 * 365; d++) {
    const day = start.plus({ days: d });
    const season = 1 + 0.35 * Math.cos((2 * Math.PI * (day.ordinal - 15)) / 365);
    const volume = 30 * season * WEEKDAY[day.weekday - 1] * (1 + 0.00025 * d);
    const a = new Aggregate();
    const cases = poisson(rand, volume);
    const meanDays = 5 * (0.8 + 0.3 * season);
    for (let i = 0; i < cases; i++) {
      const days = -Math.log(1 - rand()) * meanDays;
      a.addEvent('RESOLUTION_TIME', days, 1, 7);
      if (rand() < 0.6)
        a.addEvent('SATISFACTION', Math.max(1, Math.min(5, Math.round(5.3 - days / 4 + gaussian(rand)))));
      if (rand() < 0.03 * season) a.addEvent('CONFLICT', null);
    }
    out.push(a);
  }
  return out;
}

/** The demo's year (and a second before it, made the same way) per program, as daily aggregates. */
function demo(programIndex: number): Aggregate[] {
  const program = PROGRAMS[programIndex];
  const now = DateTime.fromISO('2026-12-07T12:00:00', { zone: program.timezone });
  const out: Aggregate[] = [];
  const DAYS = 2 * 365;
  for (let ago = DAYS - 1; ago >= 1; ago--) {
    const day = now.startOf('day').minus({ days: ago });
    const a = new Aggregate();
    for (const e of eventsOfDay(program, day, ago, now.toMillis())) a.addEvent(e.kind, e.value ?? null, 1, 7);
    out.push(a);
  }
  return out;
}

function daysOf(aggregates: Aggregate[], key: KpiKey, first: DateTime): Day[] {
  const k = kpi(key);
  return aggregates.map((a, i) => {
    const day = first.plus({ days: i });
    const p = k.parts(a);
    return { weekday: day.weekday - 1, month: day.month - 1, part: p.part, whole: p.whole };
  });
}

interface Result {
  backtests: number;
  covered: number;
  errForecast: number;
  errNaive: number;
  /** Periods whose history was too short to forecast. */
  none: number;
}

function backtest(series: Series, rand: () => number, result: Result) {
  const k = kpi(series.key);
  const { days } = series;
  for (let b = 0; b < BACKTESTS_PER_SERIES; b++) {
    const length = [30, 91, 365][Math.floor(rand() * 3)];
    const elapsed = 1 + Math.floor(rand() * (length - 1));
    // The period's start: late enough for a year of history before its elapsed part, where the data allows.
    const latestStart = days.length - length;
    const earliestStart = Math.min(latestStart, 400);
    const start = earliestStart + Math.floor(rand() * (latestStart - earliestStart + 1));
    const today = start + elapsed;
    const history = days.slice(0, today);
    let part = 0;
    let whole = 0;
    for (let d = start; d < today; d++) {
      part += days[d].part;
      whole += days[d].whole ?? 0;
    }
    const counted = days[0].whole !== null;
    const future: FutureDay[] = days
      .slice(today, start + length)
      .map((d) => ({ weekday: d.weekday, month: d.month, weight: 1 }));
    const f = forecast({
      history,
      soFar: { part, whole: counted ? whole : null },
      future,
      elapsedDays: elapsed,
      better: k.better,
      target: null,
      scale: k.parts(new Aggregate()).scale,
      range: k.range,
    });
    const scale = k.parts(new Aggregate()).scale;
    let realizedPart = part;
    let realizedWhole = whole;
    for (let d = today; d < start + length; d++) {
      realizedPart += days[d].part;
      realizedWhole += days[d].whole ?? 0;
    }
    const realized = counted ? (realizedWhole > 0 ? (scale * realizedPart) / realizedWhole : null) : realizedPart;
    const naive = counted ? (whole > 0 ? (scale * part) / whole : null) : (part * length) / elapsed;
    if (realized === null || naive === null) continue;
    if (!f) {
      result.none++;
      continue;
    }
    result.backtests++;
    if (f.low <= realized && realized <= f.high) result.covered++;
    // Errors relative to the realized value, so counts and ratios of any size weigh alike.
    const norm = Math.max(1e-9, Math.abs(realized));
    result.errForecast += Math.abs(f.value - realized) / norm;
    result.errNaive += Math.abs(naive - realized) / norm;
  }
}

const KEYS: KpiKey[] = ['AVG_RESOLUTION_TIME', 'CSAT', 'TOTAL_CONFLICTS', 'WITHIN_STANDARD', 'P90_RESOLUTION_TIME'];

function run(name: string, sets: { label: string; aggregates: Aggregate[]; first: DateTime }[], seed: number) {
  const rand = seeded(seed);
  const rows: string[] = [];
  const total: Result = { backtests: 0, covered: 0, errForecast: 0, errNaive: 0, none: 0 };
  for (const key of KEYS) {
    const r: Result = { backtests: 0, covered: 0, errForecast: 0, errNaive: 0, none: 0 };
    for (const set of sets) backtest({ name: set.label, key, days: daysOf(set.aggregates, key, set.first) }, rand, r);
    for (const f of ['backtests', 'covered', 'errForecast', 'errNaive', 'none'] as const) total[f] += r[f];
    rows.push(line(key, r));
  }
  rows.push(line('**all**', total));
  return { name, rows, total };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
function line(label: string, r: Result) {
  return `| ${label} | ${r.backtests} | ${pct(r.covered / r.backtests)} | ${pct(r.errForecast / r.backtests)} | ${pct(r.errNaive / r.backtests)} | ${(r.errForecast / r.errNaive).toFixed(2)} | ${r.none} |`;
}

const started = Date.now();
const syntheticRun = run(
  'Synthetic: 4 years, winter peak ±35%, weekly cycle, 10%/year growth, 3 series',
  [1, 2, 3].map((s) => ({ label: `synthetic ${s}`, aggregates: synthetic(s), first: DateTime.utc(2022, 1, 3) })),
  7,
);
const demoRun = run(
  'Demo data: the 4 demo programs, 2 years each (scripts/demo-data.ts)',
  PROGRAMS.map((p, i) => ({
    label: p.id,
    aggregates: demo(i),
    first: DateTime.fromISO('2026-12-07T12:00:00', { zone: p.timezone })
      .startOf('day')
      .minus({ days: 2 * 365 - 1 }),
  })),
  11,
);
const seconds = ((Date.now() - started) / 1000).toFixed(1);

const header =
  '| KPI | backtests | 80% interval holds the realized value | mean abs. error (forecast) | mean abs. error (run rate) | forecast ÷ run rate | too little history |\n|---|---|---|---|---|---|---|';
const section = `## Forecasts (\`npm run bench:forecast\`${quick ? ' -- --quick' : ''})

Backtests of the forecast method (README "Forecasts"): periods of 30, 91 or 365 days cut at a random
elapsed day; the method sees only the days before; errors are relative to the realized value; the naive
forecast "stays at the run rate" (counts: so far × length ÷ elapsed; ratios: the value so far), measured
in the same run on the same periods. Goals: the 80% interval holds the realized value in 70–90% of
backtests; the forecast's mean absolute error is below the run rate's. ${seconds} s on this machine.

### ${syntheticRun.name}

${header}
${syntheticRun.rows.join('\n')}

### ${demoRun.name}

${header}
${demoRun.rows.join('\n')}
`;
console.log(section);
const report = new URL('./REPORT.md', import.meta.url);
const text = readFileSync(report, 'utf8');
const marker = /## Forecasts \(`npm run bench:forecast`[^\n]*\n[\s\S]*?(?=\n## |\n<!-- |$)/;
writeFileSync(report, marker.test(text) ? text.replace(marker, section) : `${text.trimEnd()}\n\n${section}`);
const ok = (t: Result) => {
  const coverage = t.covered / t.backtests;
  return coverage >= 0.7 && coverage <= 0.9 && t.errForecast < t.errNaive;
};
if (!ok(syntheticRun.total) || !ok(demoRun.total)) {
  console.error('a goal is not met (see above)');
  process.exitCode = 1;
}
