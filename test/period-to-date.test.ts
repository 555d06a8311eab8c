/**
 * Period to date (issue 20): a running period's `previous` covers the span as long as the part already
 * elapsed, ending at `from`, so a count early in a year is never compared with a whole year.
 */
import { describe, expect, it } from 'vitest';
import {
  FiscalScorecardDocument,
  RecordEventsDocument,
  ScorecardDocument,
  type EventInput,
} from './generated/operations.js';
import { testApp } from './helpers/app.js';

/** Two months into FY2027 (which starts 2026-10-01). */
const NOW = Date.parse('2026-12-01T00:00:00.000Z');
let seq = 0;
const conflict = (occurredAt: string): EventInput => ({
  kind: 'CONFLICT',
  programId: 'HA',
  caseId: `c${++seq}`,
  value: null,
  occurredAt,
});

describe('period to date', () => {
  it('compares a running fiscal year with the elapsed length before it, not the whole year before', async () => {
    const t = await testApp({ now: () => NOW });
    await t.program('HA');
    // 33 conflicts so far this year; 30 in the two months before October 1, 202 in the whole year before.
    const events: EventInput[] = [];
    for (let i = 0; i < 33; i++)
      events.push(conflict(new Date(Date.parse('2026-10-02T00:00:00Z') + i * 3_600_000).toISOString()));
    for (let i = 0; i < 30; i++)
      events.push(conflict(new Date(Date.parse('2026-08-05T00:00:00Z') + i * 3_600_000).toISOString()));
    for (let i = 0; i < 172; i++)
      events.push(conflict(new Date(Date.parse('2025-11-05T00:00:00Z') + i * 3_600_000).toISOString()));
    await t.ok(RecordEventsDocument, { events });

    const { fiscalScorecard } = await t.ok(FiscalScorecardDocument, { programId: 'HA', fiscalYear: 2027 });
    expect(fiscalScorecard.running).toBe(true);
    expect(fiscalScorecard.previousFrom).toBe('2026-08-01T00:00:00.000Z'); // 61 days before October 1
    expect(fiscalScorecard.previousTo).toBe('2026-10-01T00:00:00.000Z');
    const conflicts = fiscalScorecard.rows.find((r) => r.kpi === 'TOTAL_CONFLICTS')!;
    expect(conflicts).toMatchObject({ actual: 33, previous: 30, trend: 'WORSENING' });

    // Once the year has ended, the whole year before.
    const ended = (await t.ok(FiscalScorecardDocument, { programId: 'HA', fiscalYear: 2026 })).fiscalScorecard;
    expect(ended).toMatchObject({ running: false, previousFrom: '2024-10-01T00:00:00.000Z' });
  });

  it('compares a running custom period the same way, and a period not started with nothing', async () => {
    const t = await testApp({ now: () => NOW });
    await t.program('HA');
    await t.ok(RecordEventsDocument, {
      events: [conflict('2026-11-25T00:00:00Z'), conflict('2026-11-20T00:00:00Z'), conflict('2026-11-10T00:00:00Z')],
    });
    const week = (
      await t.ok(ScorecardDocument, { programId: 'HA', from: '2026-11-28T00:00:00Z', to: '2026-12-05T00:00:00Z' })
    ).scorecard;
    expect(week).toMatchObject({ previousFrom: '2026-11-25T00:00:00.000Z', previousTo: '2026-11-28T00:00:00.000Z' });
    expect(week.rows.find((r) => r.kpi === 'TOTAL_CONFLICTS')!.previous).toBe(1);
    const later = (
      await t.ok(ScorecardDocument, { programId: 'HA', from: '2027-01-01T00:00:00Z', to: '2027-02-01T00:00:00Z' })
    ).scorecard;
    expect(later).toMatchObject({
      running: true,
      previousFrom: '2027-01-01T00:00:00.000Z',
      previousTo: '2027-01-01T00:00:00.000Z',
    });
    expect(later.rows.every((r) => r.previous === null && r.trend === 'NO_DATA')).toBe(true);
  });
});
