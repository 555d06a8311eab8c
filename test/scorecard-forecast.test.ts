/**
 * ScorecardRow.forecast (issue 20) through the API: where a running period will end, learned from the
 * program's own history; null for an ended period, a period not started, and too little history.
 */
import { describe, expect, it } from 'vitest';
import { type EventInput, RecordEventsDocument, ScorecardDocument, SetTargetDocument } from './generated/operations.js';
import { type TestApp, testApp } from './helpers/app.js';

const DAY = 86_400_000;
/** Halfway through Q2 2026 (April to June), UTC. */
const NOW = Date.parse('2026-05-16T12:00:00.000Z');
const QUARTER = { from: '2026-04-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };

/** `n` days before NOW's day: four conflicts and five cases of about 6 days, every day. */
async function history(t: TestApp, n: number) {
  const events: EventInput[] = [];
  const today = Date.parse('2026-05-16T00:00:00.000Z');
  for (let d = 1; d <= n; d++) {
    const at = (h: number) => new Date(today - d * DAY + h * 3_600_000).toISOString();
    for (let i = 0; i < 4; i++)
      events.push({ kind: 'CONFLICT', programId: 'HA', caseId: `x${d}-${i}`, occurredAt: at(9 + i) });
    for (let i = 0; i < 5; i++)
      events.push({
        kind: 'RESOLUTION_TIME',
        programId: 'HA',
        caseId: `r${d}-${i}`,
        value: 5 + ((d * 7 + i * 3) % 5) / 2,
        occurredAt: at(9 + i),
      });
  }
  for (let i = 0; i < events.length; i += 5_000)
    await t.ok(RecordEventsDocument, { events: events.slice(i, i + 5_000) });
}

const row = async (t: TestApp, kpi: string, period = QUARTER) =>
  (await t.ok(ScorecardDocument, { programId: 'HA', ...period })).scorecard.rows.find((r) => r.kpi === kpi)!;

describe('scorecard forecasts', () => {
  it("projects a running quarter's end from the program's history, with an interval and the chance of meeting the target", async () => {
    const t = await testApp({ now: () => NOW });
    await t.program('HA');
    await history(t, 200);
    await t.ok(SetTargetDocument, { input: { programId: 'HA', kpi: 'TOTAL_CONFLICTS', value: 300, ...QUARTER } });
    const conflicts = await row(t, 'TOTAL_CONFLICTS');
    // 45 days so far at four a day; the half of today still to come and 45 more days at the same pace: 362.
    expect(conflicts.actual).toBe(180);
    expect(conflicts.forecast!.value).toBeCloseTo(362, 6);
    expect(conflicts.forecast!.low).toBeLessThanOrEqual(conflicts.forecast!.value);
    expect(conflicts.forecast!.high).toBeGreaterThanOrEqual(conflicts.forecast!.value);
    expect(conflicts.forecast!.meetsTargetProbability).toBe(0);
    const average = await row(t, 'AVG_RESOLUTION_TIME');
    expect(average.forecast!.value).toBeGreaterThan(5);
    expect(average.forecast!.value).toBeLessThan(7);
    expect(average.forecast!.low).toBeLessThanOrEqual(average.forecast!.value);
    expect(average.forecast!.meetsTargetProbability).toBeNull();
  });

  it('is null once the period has ended, and before it starts', async () => {
    const t = await testApp({ now: () => NOW });
    await t.program('HA');
    await history(t, 200);
    expect(
      (await row(t, 'TOTAL_CONFLICTS', { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' })).forecast,
    ).toBeNull();
    expect(
      (await row(t, 'TOTAL_CONFLICTS', { from: '2026-07-01T00:00:00Z', to: '2026-10-01T00:00:00Z' })).forecast,
    ).toBeNull();
  });

  it('is null with no history, and with one day of it', async () => {
    const t = await testApp({ now: () => NOW });
    await t.program('HA');
    expect((await row(t, 'TOTAL_CONFLICTS')).forecast).toBeNull();
    await history(t, 1);
    const conflicts = await row(t, 'TOTAL_CONFLICTS');
    expect(conflicts.actual).toBe(4);
    expect(conflicts.forecast).toBeNull();
  });
});
