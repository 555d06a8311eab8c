/**
 * An opaque id of another program's thing answers exactly as an unknown id (issue 17, hole 6): an
 * ADMIN limited to program A learns neither that B's target, webhook, rule, alert, event or key
 * exists nor which program it belongs to.
 */
import { describe, expect, it } from 'vitest';
import { listRules } from '../src/alerts/alerts.repository.js';
import {
  AcknowledgeAlertDocument,
  AlertsDocument,
  CreateAlertRuleDocument,
  CreateApiKeyDocument,
  CreateWebhookDocument,
  DeleteAlertRuleDocument,
  DeleteTargetDocument,
  DeleteWebhookDocument,
  DisableAlertRuleDocument,
  EnableAlertRuleDocument,
  RecordConflictDocument,
  RetractEventDocument,
  RevokeApiKeyDocument,
  SetTargetDocument,
  UpdateAlertRuleDocument,
  WebhooksDocument,
} from './generated/operations.js';
import { onlyError, testApp, type Result } from './helpers/app.js';

const UNKNOWN = 'no-such-id-0000';

/** The error an id gets, with the id itself written as <id>, so B's id and an unknown one compare equal. */
async function refusal(ask: (id: string) => Promise<Result<unknown>>, id: string) {
  const error = onlyError(await ask(id));
  return { code: error.extensions?.code, message: error.message.split(id).join('<id>') };
}

async function setup() {
  const t = await testApp();
  await t.program('A');
  await t.program('B');
  const adminOfA = await t.key('ADMIN', ['A']);
  return { t, adminOfA };
}

describe('opaque ids of another program', () => {
  it("answer NOT_FOUND for B's target and webhook, as for an unknown id, naming no program", async () => {
    const { t, adminOfA } = await setup();
    const { setTarget } = await t.ok(SetTargetDocument, {
      input: { programId: 'B', kpi: 'CSAT', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', value: 80 },
    });
    const { createWebhook } = await t.ok(CreateWebhookDocument, {
      input: { url: 'https://example.com/hook', secret: 'a-secret-of-16-chars', programId: 'B' },
    });

    const deleteTarget = (id: string) => t.run(DeleteTargetDocument, { id }, adminOfA);
    const deleteWebhook = (id: string) => t.run(DeleteWebhookDocument, { id }, adminOfA);
    for (const [ask, id] of [
      [deleteTarget, setTarget.id],
      [deleteWebhook, createWebhook.id],
    ] as const) {
      const answer = await refusal(ask, id);
      expect(answer).toEqual(await refusal(ask, UNKNOWN));
      expect(answer.code).toBe('NOT_FOUND');
      expect(answer.message).not.toContain('"B"');
    }
    // Nothing was deleted.
    expect((await t.ok(WebhooksDocument, {})).webhooks.map((w) => w.id)).toContain(createWebhook.id);
    expect((await t.run(DeleteTargetDocument, { id: setTarget.id })).data?.deleteTarget).toBe(true);
  });

  it("answer NOT_FOUND for B's alert rule, alert, event and key, as for an unknown id", async () => {
    const { t, adminOfA } = await setup();
    const { createAlertRule } = await t.ok(CreateAlertRuleDocument, {
      input: { name: 'B conflicts', programId: 'B', kpi: 'TOTAL_CONFLICTS', comparator: 'GT', threshold: 0 },
    });
    const [rule] = (await listRules(t.app.services.db, ['B'])).filter((r) => r.id === createAlertRule.id);
    await t.app.services.alerts.writer.transition(rule, 'B', null, { to: 'FIRING', value: 1, at: Date.now() });
    const [alert] = (await t.ok(AlertsDocument, { programId: 'B' })).alerts;
    const { recordConflict } = await t.ok(RecordConflictDocument, { input: { programId: 'B', caseId: 'c' } });
    const { createApiKey } = await t.ok(CreateApiKeyDocument, {
      input: { name: 'B reader', role: 'VIEWER', programIds: ['B'] },
    });

    const asks: [(id: string) => Promise<Result<unknown>>, string][] = [
      [(id) => t.run(UpdateAlertRuleDocument, { id, input: { threshold: 2 } }, adminOfA), createAlertRule.id],
      [(id) => t.run(EnableAlertRuleDocument, { id }, adminOfA), createAlertRule.id],
      [(id) => t.run(DisableAlertRuleDocument, { id }, adminOfA), createAlertRule.id],
      [(id) => t.run(DeleteAlertRuleDocument, { id }, adminOfA), createAlertRule.id],
      [(id) => t.run(AcknowledgeAlertDocument, { id }, adminOfA), alert.id],
      [(id) => t.run(RetractEventDocument, { id }, adminOfA), recordConflict.event.id],
      [(id) => t.run(RevokeApiKeyDocument, { id }, adminOfA), createApiKey.apiKey.id],
    ];
    for (const [ask, id] of asks) {
      // Event ids are numbers: the unknown one is too, so both pass the same parsing.
      const unknown = /^\d+$/.test(id) ? '999999999' : UNKNOWN;
      const answer = await refusal(ask, id);
      expect(answer).toEqual(await refusal(ask, unknown));
      expect(answer.code).toBe('NOT_FOUND');
    }
    expect((await t.ok(AlertsDocument, { programId: 'B' })).alerts[0]).toMatchObject({ acknowledgedAt: null });
  });
});
