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
  ClientAlertRulesDocument,
  ClientCreateAlertRuleDocument,
  MonitoringClient,
  MonitoringError,
  type AnyEventInput,
  type Kpi,
} from '../src/client/index.js';
import { caseProfile, DIMENSIONS, eventsOfDay, logNormal, PROGRAMS } from './demo-data.js';
import { fiscalInterval, fiscalPeriodOf } from '../src/targets/fiscal-periods.js';

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

/**
 * An early warning: fires while a running target of average resolution time is less likely than not
 * to be met (a new installation has no such rule). SNAP's slip makes its quarter's target fire.
 */
async function ensureEarlyWarning(client: MonitoringClient) {
  const name = 'Resolution-time target at risk';
  const { alertRules } = await client.request(ClientAlertRulesDocument, {});
  if (alertRules.some((r) => r.name === name)) return;
  await client.request(ClientCreateAlertRuleDocument, {
    input: {
      name,
      kpi: 'AVG_RESOLUTION_TIME',
      kind: 'TARGET_AT_RISK',
      comparator: 'LT',
      threshold: 0.5,
      severity: 'WARNING',
    },
  });
  console.log('  early warning: alerts while an average-resolution-time target is under 50% likely to be met');
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
  await ensureEarlyWarning(client);
  const page = new URL('/', url);
  console.log(`Done. Open ${page.origin}/#key=${encodeURIComponent(key)} (or ${page.origin}/ and paste the key).`);
  console.log(
    '  SNAP has slipped past 7 days on average (the default alert fires, and its quarter target is at risk); VET had a conflict spike about four months ago.',
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
