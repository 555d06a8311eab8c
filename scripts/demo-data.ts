/**
 * The demo's programs and how their events are made (scripts/demo.ts records them; bench/forecast.ts
 * replays them in memory): seasonal load, a slipping program, a conflict spike, slow offices.
 */
import type { DateTime } from 'luxon';
import type { AnyEventInput, DimensionInput } from '../src/client/index.js';

export interface DemoProgram {
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

export const DIMENSIONS: DimensionInput[] = [
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

export const PROGRAMS: DemoProgram[] = [
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

/** A small seeded generator (mulberry32), so one key always carries the same payload. */
export function random(seed: string): () => number {
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
export function logNormal(rand: () => number, mean: number, sigma = 0.45): number {
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
export function caseProfile(rand: () => number, program: DemoProgram) {
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
export function eventsOfDay(program: DemoProgram, day: DateTime, daysAgo: number, now: number): AnyEventInput[] {
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
