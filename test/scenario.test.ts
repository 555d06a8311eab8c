/** The brief's scenario, end to end: three events recorded, one dashboard read back. */
import { describe, expect, it } from 'vitest';
import {
  DashboardDocument,
  RecordConflictDocument,
  RecordResolutionTimeDocument,
  RecordSatisfactionDocument,
} from './generated/operations.js';
import { testApp } from './helpers/app.js';

describe("the brief's scenario", () => {
  it('averages one resolution of 5 days to 5, with satisfaction 4.2 and one conflict', async () => {
    const t = await testApp();
    await t.program('HA');
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-001', days: 5 } });
    await t.ok(RecordSatisfactionDocument, { input: { programId: 'HA', caseId: 'HA-001', score: 4.2 } });
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'HA-002' } });

    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard).toMatchObject({
      programId: 'HA',
      avgResolutionTime: 5,
      avgSatisfaction: 4.2,
      totalConflicts: 1,
      resolvedCases: 1,
      satisfactionResponses: 1,
      csat: 100,
      conflictRate: 100,
    });
  });
});
