/**
 * `npm run demo`: sample programs and a year of realistic events, recorded through the typed
 * client against a running server, so a newcomer sees a lively dashboard at once.
 *
 *   npm start                                   # in one terminal; it prints an admin key
 *   KPI_API_KEY=kpi_... npm run demo            # in another (or: npm run demo -- --key kpi_...)
 *   npm run demo -- --live                      # ...then keeps recording a few events a second
 *
 * What it makes: seasonal load (a winter peak, quiet weekends), one program (SNAP) whose
 * resolution times slip past the 7-day threshold over the last weeks, so the default alert fires,
 * and a conflict spike in another (VET). Every event carries its office, channel and case type
 * (each program declares them as dimensions): one office (Buffalo) is short-staffed and slow in
 * every program, mail is slower than the web, and appeals take longer than first applications, so
 * the page's breakdown has something to find. Every event carries an idempotency key derived from its
 * program, day and number, with values drawn from a generator seeded the same way, so running the
 * demo again adds nothing twice.
 */
import { DateTime } from 'luxon';
import {
  MonitoringClient,
  MonitoringError,
  type AnyEventInput,
  type DimensionInput,
  type Kpi,
} from '../src/client/index.js';
import { fiscalInterval, fiscalPeriodOf } from '../src/targets/fiscal-periods.js';

interface DemoProgram {
  id: string;
  name: string;
  timezone: string;
  /** Cases resolved on an ordinary weekday. */
  casesPerDay: number;
  /** Mean resolution days in an ordinary week, before any slip. */
  meanDays: number;
  /** Share of cases that end in a conflict or escalation. */
  conflictShare: number;
  /** Days before today when resolution starts to slip, and the extra days it reaches by today. */
  slip?: { startsDaysAgo: number; extraDays: number };
  /** A burst of conflicts: from `daysAgo` for `days` days, `factor` times the usual share. */
  conflictSpike?: { daysAgo: number; days: number; factor: number };
  /** The program's case types: each a share of its cases and a factor on resolution time. */
  caseTypes: Weighted[];
}

/** A value of a dimension: how often it occurs and how it changes resolution time. */
interface Weighted {
  value: string;
  share: number;
  /** Resolution days are multiplied by this (a slow office, a slow case type). */
  factor: number;
  /** Added to the satisfaction score. */
  mood?: number;
}

const DIMENSIONS: DimensionInput[] = [
  { key: 'office', label: 'Office', maxValues: 100 },
  { key: 'channel', label: 'Channel', maxValues: 20 },
  { key: 'case_type', label: 'Case type', maxValues: 50 },
];

/** A state's field offices, by their share of the caseload; Buffalo is short-staffed everywhere. */
const OFFICES: Weighted[] = [
  { value: 'Albany', share: 6, factor: 0.95 },
  { value: 'Binghamton', share: 4, factor: 0.9 },
  { value: 'Bronx', share: 12, factor: 1.05 },
  { value: 'Brooklyn', share: 15, factor: 1 },
  { value: 'Buffalo', share: 9, factor: 1.9, mood: -0.6 },
  { value: 'Long Island', share: 10, factor: 0.95 },
  { value: 'Manhattan', share: 13, factor: 1 },
  { value: 'Queens', share: 12, factor: 1.05 },
  { value: 'Rochester', share: 6, factor: 0.9 },
  { value: 'Syracuse', share: 5, factor: 0.85 },
  { value: 'Utica', share: 3, factor: 0.9 },
  { value: 'Westchester', share: 5, factor: 0.95 },
];

/** How cases come in: mail is slow, in person is quick and well liked. */
const CHANNELS: Weighted[] = [
  { value: 'web', share: 45, factor: 0.9 },
  { value: 'phone', share: 28, factor: 1, mood: -0.2 },
  { value: 'mail', share: 12, factor: 1.45, mood: -0.3 },
  { value: 'in person', share: 15, factor: 0.85, mood: 0.3 },
];

const PROGRAMS: DemoProgram[] = [
  {
    id: 'HA',
    name: 'Housing Assistance',
    timezone: 'America/New_York',
    casesPerDay: 26,
    meanDays: 5,
    conflictShare: 0.03,
    caseTypes: [
      { value: 'rental assistance', share: 45, factor: 1 },
      { value: 'home repair', share: 20, factor: 1.3 },
      { value: 'eviction prevention', share: 15, factor: 0.7 },
      { value: 'utility assistance', share: 20, factor: 0.9 },
    ],
  },
  {
    id: 'SNAP',
    name: 'Food Assistance (SNAP)',
    timezone: 'America/Chicago',
    casesPerDay: 34,
    meanDays: 5.5,
    conflictShare: 0.025,
    slip: { startsDaysAgo: 45, extraDays: 6 },
    caseTypes: [
      { value: 'new application', share: 40, factor: 1.1 },
      { value: 'recertification', share: 35, factor: 0.8 },
      { value: 'change report', share: 18, factor: 0.6 },
      { value: 'appeal', share: 7, factor: 2.2, mood: -0.5 },
    ],
  },
  {
    id: 'VET',
    name: 'Veterans Services',
    timezone: 'America/Denver',
    casesPerDay: 14,
    meanDays: 4,
    conflictShare: 0.02,
    conflictSpike: { daysAgo: 120, days: 21, factor: 7 },
    caseTypes: [
      { value: 'disability claim', share: 40, factor: 1.4 },
      { value: 'education benefits', share: 25, factor: 0.7 },
      { value: 'home loan', share: 20, factor: 0.8 },
      { value: 'burial benefits', share: 15, factor: 0.6 },
    ],
  },
  {
    id: 'UI',
    name: 'Unemployment Insurance',
    timezone: 'America/Los_Angeles',
    casesPerDay: 40,
    meanDays: 3.5,
    conflictShare: 0.035,
    caseTypes: [
      { value: 'initial claim', share: 50, factor: 1 },
      { value: 'continued claim', share: 30, factor: 0.5 },
      { value: 'appeal', share: 12, factor: 2.5, mood: -0.6 },
      { value: 'employer dispute', share: 8, factor: 1.8, mood: -0.3 },
    ],
  },
];

const BATCH = 5_000;
const DAYS = 365;

function options() {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url =
    flag('url') ??
    process.env.KPI_URL ??
    `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 4000}/graphql`;
  const key = flag('key') ?? process.env.KPI_API_KEY ?? process.env.ADMIN_API_KEY;
  if (!key) {
    console.error(
      'npm run demo needs an ADMIN key: KPI_API_KEY=kpi_... npm run demo (or --key kpi_...), with the server running (npm start).',
    );
    process.exit(2);
  }
  return { url, key, live: args.includes('--live') };
}

/** A small seeded generator (mulberry32), so one key always carries the same payload. */
function random(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal draw around `mean` (resolution times have a long right tail). */
function logNormal(rand: () => number, mean: number, sigma = 0.45): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return mean * Math.exp(sigma * normal - (sigma * sigma) / 2);
}

/** One value drawn by share. */
function pick(rand: () => number, values: Weighted[]): Weighted {
  let r = rand() * values.reduce((sum, v) => sum + v.share, 0);
  for (const v of values) if ((r -= v.share) < 0) return v;
  return values[values.length - 1];
}

/** A case's office, channel and case type, and what they do to its resolution time and score. */
function caseProfile(rand: () => number, program: DemoProgram) {
  const office = pick(rand, OFFICES);
  const channel = pick(rand, CHANNELS);
  const caseType = pick(rand, program.caseTypes);
  return {
    attributes: { office: office.value, channel: channel.value, case_type: caseType.value },
    factor: office.factor * channel.factor * caseType.factor,
    mood: (office.mood ?? 0) + (channel.mood ?? 0) + (caseType.mood ?? 0),
  };
}

/** Busier in winter (January peak), quieter in late summer; weekends a third of a weekday. */
function load(day: DateTime): number {
  const seasonal = 1 + 0.35 * Math.cos((2 * Math.PI * (day.ordinal - 15)) / 365);
  return seasonal * (day.weekday >= 6 ? 0.35 : 1);
}

/** One program's events for one local day, up to `now`. */
function eventsOfDay(program: DemoProgram, day: DateTime, daysAgo: number, now: number): AnyEventInput[] {
  const date = day.toISODate();
  const rand = random(`${program.id}:${date}`);
  const cases = Math.round(program.casesPerDay * load(day) * (0.8 + 0.4 * rand()));
  const slip =
    program.slip && daysAgo <= program.slip.startsDaysAgo
      ? program.slip.extraDays * (1 - daysAgo / program.slip.startsDaysAgo)
      : 0;
  const spike = program.conflictSpike;
  const conflictShare =
    program.conflictShare *
    (spike && daysAgo <= spike.daysAgo && daysAgo > spike.daysAgo - spike.days ? spike.factor : 1);
  // Heavier load, slower service: a winter day takes up to a day longer.
  const meanDays = program.meanDays * (0.85 + 0.3 * (load(day) / 1.35)) + slip;

  const events: AnyEventInput[] = [];
  for (let i = 0; i < cases; i++) {
    // Cases close during office hours, local time.
    const occurredAt = day.plus({ minutes: Math.floor(8 * 60 + rand() * 9 * 60) });
    if (occurredAt.toMillis() > now) continue;
    const caseId = `${program.id}-${date!.replaceAll('-', '')}-${String(i + 1).padStart(3, '0')}`;
    const key = (kind: string) => `demo:${caseId}:${kind}`;
    const profile = caseProfile(rand, program);
    const base = { programId: program.id, caseId, occurredAt: occurredAt.toJSDate(), attributes: profile.attributes };
    const days = Math.min(120, Math.round(logNormal(rand, meanDays * profile.factor) * 10) / 10);
    events.push({ ...base, kind: 'RESOLUTION_TIME', value: days, idempotencyKey: key('resolution') });
    // Six in ten answer the survey; slow cases score lower.
    if (rand() < 0.6) {
      const score = Math.max(1, Math.min(5, Math.round(5.3 - days / 5 + profile.mood + (rand() - 0.5) * 2)));
      events.push({ ...base, kind: 'SATISFACTION', value: score, idempotencyKey: key('survey') });
    }
    if (rand() < conflictShare) {
      events.push({
        ...base,
        kind: 'CONFLICT',
        reason: rand() < 0.5 ? 'escalated to supervisor' : 'eligibility dispute',
        idempotencyKey: key('conflict'),
      });
    }
  }
  return events;
}

/** Creates the programs with their dimensions; a program made by an older demo gets the dimensions it lacks. */
async function ensurePrograms(client: MonitoringClient) {
  const existing = new Map((await client.programs()).map((p) => [p.id, p]));
  for (const p of PROGRAMS) {
    const program = existing.get(p.id);
    if (!program) {
      await client.createProgram({ id: p.id, name: p.name, timezone: p.timezone, dimensions: DIMENSIONS });
      console.log(`  program ${p.id} (${p.name}, ${p.timezone}) created, by office, channel and case type`);
      continue;
    }
    const missing = DIMENSIONS.filter((d) => !program.dimensions.some((known) => known.key === d.key));
    for (const d of missing) await client.addDimension(p.id, d);
    console.log(
      `  program ${p.id} exists already${missing.length ? ` (added ${missing.map((d) => d.key).join(', ')})` : ''}`,
    );
  }
}

/** Targets for this federal fiscal year and its current quarter, so the cards show target and status. */
async function setTargets(client: MonitoringClient, now: number) {
  const goals: [Kpi, number][] = [
    ['AVG_RESOLUTION_TIME', 7],
    ['P90_RESOLUTION_TIME', 12],
    ['AVG_SATISFACTION', 4],
    ['CSAT', 75],
  ];
  for (const p of PROGRAMS) {
    const { fiscalYear, quarter } = fiscalPeriodOf(now, p.timezone);
    for (const period of [
      fiscalInterval({ fiscalYear, quarter: null }, p.timezone),
      fiscalInterval({ fiscalYear, quarter }, p.timezone),
    ]) {
      for (const [kpi, value] of goals) {
        await client.setTarget({ programId: p.id, kpi, from: new Date(period.start), to: new Date(period.end), value });
      }
    }
  }
  console.log(
    '  targets set for this fiscal year and quarter (average ≤ 7 days, p90 ≤ 12, satisfaction ≥ 4, CSAT ≥ 75%)',
  );
}

async function backfill(client: MonitoringClient, now: number) {
  let batch: AnyEventInput[] = [];
  let accepted = 0;
  let duplicates = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await client.recordEvents(batch);
    accepted += result.accepted;
    duplicates += result.duplicates;
    batch = [];
    process.stdout.write(
      `\r  ${accepted.toLocaleString('en-US')} events recorded, ${duplicates.toLocaleString('en-US')} already there`,
    );
  };
  for (let daysAgo = DAYS - 1; daysAgo >= 0; daysAgo--) {
    for (const program of PROGRAMS) {
      const day = DateTime.fromMillis(now, { zone: program.timezone }).startOf('day').minus({ days: daysAgo });
      batch.push(...eventsOfDay(program, day, daysAgo, now));
      if (batch.length >= BATCH) await flush();
    }
  }
  await flush();
  process.stdout.write('\n');
}

/** A few events a second, until Ctrl-C, so the page visibly moves. */
async function trickle(client: MonitoringClient) {
  console.log('Recording a few live events a second; press Ctrl-C to stop.');
  const rand = Math.random;
  let n = 0;
  let running = true;
  process.on('SIGINT', () => (running = false));
  while (running) {
    const program = PROGRAMS[Math.floor(rand() * PROGRAMS.length)];
    const caseId = `${program.id}-LIVE-${Date.now()}-${n++}`;
    const { attributes, factor, mood } = caseProfile(rand, program);
    const days = Math.round(logNormal(rand, (program.meanDays + (program.slip?.extraDays ?? 0)) * factor) * 10) / 10;
    const base = { programId: program.id, caseId, attributes };
    await client.recordResolutionTime({ ...base, days });
    if (rand() < 0.6)
      await client.recordSatisfaction({ ...base, score: Math.max(1, Math.min(5, Math.round(5.3 - days / 5 + mood))) });
    if (rand() < 0.05) await client.recordConflict({ ...base, reason: 'escalated to supervisor' });
    await new Promise((resolve) => setTimeout(resolve, 400 + rand() * 800));
  }
}

async function main() {
  const { url, key, live } = options();
  const client = new MonitoringClient({ url, apiKey: key });
  const now = Date.now();
  console.log(`Demo data for ${url}`);
  await ensurePrograms(client);
  await setTargets(client, now);
  await backfill(client, now);
  const page = new URL('/', url);
  console.log(`Done. Open ${page.origin}/#key=${encodeURIComponent(key)} (or ${page.origin}/ and paste the key).`);
  console.log(
    '  SNAP has slipped past 7 days on average (the default alert fires); VET had a conflict spike about four months ago.',
  );
  console.log('  Break a program down by office to find the slow one; by channel, mail lags.');
  if (live) await trickle(client);
  await client.close();
}

main().catch((error) => {
  if (error instanceof MonitoringError && error.code === 'NETWORK') {
    console.error(`\nThe server did not answer (${error.message}). Start it with \`npm start\` first.`);
  } else if (error instanceof MonitoringError && (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN')) {
    console.error(`\nThe key was refused (${error.code}): the demo needs an ADMIN key.`);
  } else console.error('\ndemo failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
