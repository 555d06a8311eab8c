/**
 * A span that reaches the present reads its unfinished last hour as that hour's rollup less the
 * events stamped after the span's end (complementHour in src/kpis/kpi.service.ts), instead of
 * every raw event of the hour so far. These cases put events on both sides of `now` in that hour,
 * future-stamped ones and retracted ones among them, and hold every KPI to the raw events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { EventKind } from '../src/db/types.js';
import { Recorder } from '../src/write/record.service.js';
import type { ValidEvent } from '../src/events/validate.js';
import type { Aggregate } from '../src/kpis/aggregate.js';
import { aggregateSpans, aggregateSpansOfAll } from '../src/kpis/kpi.service.js';
import { DAY, HOUR, MINUTE } from '../src/kpis/time.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { freshDatabaseUrl } from './helpers/app.js';

/** 14:37:12.345 UTC: in Kolkata (+05:30) the hour's rollup still begins on the UTC hour, 14:00. */
const NOW = Date.UTC(2026, 5, 10, 14, 37, 12, 345);
const PROGRAMS = [
  { id: 'kolkata', timezone: 'Asia/Kolkata' },
  { id: 'utc', timezone: 'UTC' },
];

const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposals.splice(0).reverse()) await dispose();
});

/** Events over the two days before NOW, a third of them in NOW's hour, some after NOW (up to the hour's end). */
function events(): ValidEvent[] {
  const hourStart = NOW - (NOW % HOUR);
  return Array.from({ length: 600 }, (_, i) => {
    const kind: EventKind = i % 5 === 0 ? 'SATISFACTION' : i % 7 === 0 ? 'CONFLICT' : 'RESOLUTION_TIME';
    const occurredAt = i % 3 === 0 ? hourStart + ((i * 104_729) % HOUR) : NOW - 2 * DAY + ((i * 7_919_113) % (2 * DAY));
    return {
      kind,
      programId: PROGRAMS[i % 2].id,
      caseId: `c${i}`,
      value: kind === 'SATISFACTION' ? 1 + (i % 5) : kind === 'CONFLICT' ? null : 0.1 + ((i * 37) % 997) / 13,
      reason: null,
      occurredAt,
      occurredAtGiven: true,
      idempotencyKey: null,
    };
  });
}

/** Counts exact, sums to floating-point tolerance, percentiles within 1% of the nearest rank. */
function expectRaw(aggregate: Aggregate, raw: ValidEvent[], where: string) {
  const res = raw
    .filter((e) => e.kind === 'RESOLUTION_TIME')
    .map((e) => e.value!)
    .sort((a, b) => a - b);
  const sat = raw.filter((e) => e.kind === 'SATISFACTION').map((e) => e.value!);
  expect(aggregate.resCount, `${where}: resolved cases`).toBe(res.length);
  expect(aggregate.satCount, `${where}: responses`).toBe(sat.length);
  expect(aggregate.conflicts, `${where}: conflicts`).toBe(raw.filter((e) => e.kind === 'CONFLICT').length);
  expect(aggregate.resSum.value(), `${where}: resolution sum`).toBeCloseTo(
    res.reduce((a, b) => a + b, 0),
    6,
  );
  expect(aggregate.satSum.value(), `${where}: score sum`).toBeCloseTo(
    sat.reduce((a, b) => a + b, 0),
    6,
  );
  for (const q of [0.5, 0.9]) {
    const want = res[Math.max(1, Math.ceil(q * res.length)) - 1];
    const got = aggregate.resHist.quantile(q)!;
    expect(Math.abs(got - want), `${where}: p${q * 100} ${got} vs ${want}`).toBeLessThanOrEqual(0.01 * want);
  }
}

describe('spans that reach the present', () => {
  it('read the unfinished hour exactly: its rollup less the events after now, retracted ones too', async () => {
    const database = await openDatabase(freshDatabaseUrl());
    disposals.push(() => database.close());
    await migrateToLatest(database);
    for (const p of PROGRAMS) await insertProgram(database.db, { ...p, name: p.id, created_at: 0 });
    const recorder = new Recorder(database, createEventBus(), () => NOW);
    const all = events();
    const outcome = await recorder.record(all, { keyId: null, indexed: true });
    // Retract some on each side of NOW, in its hour and before it.
    const ids = outcome.results.map((r) => r.event.id);
    const retracted = new Set([0, 3, 9, 30, 31, 33, 300, 303, 599].filter((i) => i < ids.length));
    for (const i of retracted) await recorder.retract(ids[i], () => true);
    const live = all.filter((_, i) => !retracted.has(i));
    expect(live.some((e) => e.occurredAt > NOW && e.occurredAt < NOW - (NOW % HOUR) + HOUR)).toBe(true);

    const between = (start: number, end: number, programId?: string) =>
      live.filter(
        (e) => e.occurredAt >= start && e.occurredAt < end && (programId === undefined || e.programId === programId),
      );
    for (const length of [7 * DAY, 26 * HOUR, 2 * HOUR, 20 * MINUTE]) {
      // As of NOW, and as of moments later in the same hour (an alert evaluation, a live dashboard).
      for (const end of [NOW, NOW + 11 * MINUTE, NOW + 3]) {
        const span = { start: end - length, end };
        const byProgram = await aggregateSpans(database.db, PROGRAMS, [span], end);
        for (const p of PROGRAMS)
          expectRaw(byProgram.get(p.id)![0], between(span.start, span.end, p.id), `${p.id} [${end - length}, ${end})`);
        const [everything] = await aggregateSpansOfAll(
          database.db,
          PROGRAMS.map((p) => p.id),
          [span],
          end,
        );
        expectRaw(everything, between(span.start, span.end), `all programs [${end - length}, ${end})`);
      }
    }

    // Followed by another span inside the same hour: read as before, raw events of the hour.
    const spans = [
      { start: NOW - 3 * HOUR, end: NOW },
      { start: NOW, end: NOW + 10 * MINUTE },
    ];
    const [first, second] = (await aggregateSpans(database.db, PROGRAMS, spans, NOW)).get('kolkata')!;
    expectRaw(first, between(spans[0].start, spans[0].end, 'kolkata'), 'kolkata, first of two spans');
    expectRaw(second, between(spans[1].start, spans[1].end, 'kolkata'), 'kolkata, second of two spans');
  });
});
