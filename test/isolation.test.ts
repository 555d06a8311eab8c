/**
 * The isolation matrix, generated from the schema: every Query, Mutation and Subscription field
 * has a row. A row either says why the field carries no program data, or lists probes in which a
 * key limited to program "alpha" reaches for program "bravo" — by argument, by id, through an
 * alert, a rule, a target, a webhook, an event, a key, or an all-programs scope — and gets
 * FORBIDDEN / NOT_FOUND, or an answer with nothing of bravo in it. A refused mutation must leave
 * the whole world as it was. A new root field without a row fails the first test.
 *
 * HTTP_MATRIX does the same for every HTTP route of src/http/routes.ts, sent over a real socket
 * through the request handler: a new route without a row fails its first test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { HTTP_ROUTES, PAGE_ROUTE } from '../src/http/routes.js';
import { schema } from '../src/schema/index.js';
import { ADMIN_KEY, freshDatabaseUrl, testDialect } from './helpers/app.js';
import { connect, type LiveClient } from './helpers/ws.js';

const A = 'alpha';
const B = 'bravo';
const HOUR = 3_600_000;

type KeyName = 'viewerA' | 'integrationA' | 'adminA';

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

interface World {
  app: App;
  /** ws://… of the listening server. */
  url: string;
  /** http://… of the listening server. */
  httpUrl: string;
  keys: Record<KeyName | 'viewerB', { secret: string; id: string }>;
  ids: {
    bRule: string;
    aRule: string;
    bAlert: string;
    aAlert: string;
    bTarget: string;
    bAnnotation: string;
    bWebhook: string;
    everyWebhook: string;
    bEvent: string;
    aEvent: string;
    unscopedKey: string;
  };
  /** Strings that appear only in bravo's data. */
  markers: string[];
  send(query: string, variables?: Record<string, unknown>, key?: string): Promise<Answer>;
}

/** One attempt by a key limited to alpha to reach bravo. */
interface Probe {
  name: string;
  key: KeyName;
  query: string;
  variables?: (w: World) => Record<string, unknown>;
  /** REFUSED: the field answers null with FORBIDDEN or NOT_FOUND. NOTHING: an answer without bravo in it. */
  expect: 'REFUSED' | 'NOTHING';
  /** More to check on an answer (e.g. numbers that must be alpha's alone). */
  check?: (data: Record<string, unknown>, w: World) => void;
}

type Row = { none: string } | { probes: Probe[] } | { live: (w: World) => Promise<void> };

const ALERT = 'id programId state rule { id programId } history { state actor }';
const RULE = 'id programId name enabled';

/** Every root field: how it is kept from bravo, or why it holds no program data. */
const MATRIX: Record<string, Row> = {
  // ---- queries
  'Query.alert': {
    probes: [
      {
        name: "bravo's alert by id",
        key: 'viewerA',
        query: `query ($id: ID!) { alert(id: $id) { ${ALERT} } }`,
        variables: (w) => ({ id: w.ids.bAlert }),
        expect: 'NOTHING',
        check: (d) => expect(d.alert).toBeNull(),
      },
    ],
  },
  'Query.alertRules': {
    probes: [
      {
        name: "bravo's rules by program",
        key: 'viewerA',
        query: `{ alertRules(programId: "${B}") { ${RULE} } }`,
        expect: 'REFUSED',
      },
      {
        name: 'every program it may see',
        key: 'viewerA',
        query: `{ alertRules { ${RULE} } }`,
        expect: 'NOTHING',
        check: (d, w) => expect(ids(d.alertRules)).toContain(w.ids.aRule),
      },
    ],
  },
  'Query.alerts': {
    probes: [
      {
        name: "bravo's alerts by program",
        key: 'viewerA',
        query: `{ alerts(programId: "${B}") { ${ALERT} } }`,
        expect: 'REFUSED',
      },
      {
        name: "through bravo's rule",
        key: 'viewerA',
        query: `query ($r: ID) { alerts(ruleId: $r) { ${ALERT} } }`,
        variables: (w) => ({ r: w.ids.bRule }),
        expect: 'NOTHING',
      },
      {
        name: 'every program it may see',
        key: 'viewerA',
        query: `{ alerts { ${ALERT} } }`,
        expect: 'NOTHING',
        check: (d, w) => expect(ids(d.alerts)).toEqual([w.ids.aAlert]),
      },
    ],
  },
  'Query.apiKeys': {
    probes: [
      {
        name: 'an admin of alpha lists keys: none for bravo or for every program',
        key: 'adminA',
        query: '{ apiKeys { id name programIds } }',
        expect: 'NOTHING',
        check: (d, w) => expect(ids(d.apiKeys)).not.toContain(w.ids.unscopedKey),
      },
    ],
  },
  'Query.auditLog': {
    probes: [
      {
        name: 'an admin of alpha reads the audit log of every program',
        key: 'adminA',
        query: '{ auditLog { id action targetId details } }',
        expect: 'REFUSED',
      },
    ],
  },
  'Query.dashboard': {
    probes: [
      {
        name: "bravo's dashboard",
        key: 'viewerA',
        query: `{ dashboard(programId: "${B}") { resolvedCases } }`,
        expect: 'REFUSED',
      },
      {
        name: 'the all-programs dashboard aggregates alpha alone',
        key: 'viewerA',
        query:
          '{ dashboard(from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z") { programId resolvedCases satisfactionResponses totalConflicts series { resolvedCases } activeAlerts { id programId rule { id } } targets { id programId } annotations { id programId title } } }',
        expect: 'NOTHING',
        check: (d) =>
          expect(d.dashboard).toMatchObject({ resolvedCases: 2, satisfactionResponses: 1, totalConflicts: 0 }),
      },
    ],
  },
  'Query.event': {
    probes: [
      {
        name: "bravo's event by id",
        key: 'viewerA',
        query: 'query ($id: ID!) { event(id: $id) { id programId caseId value } }',
        variables: (w) => ({ id: w.ids.bEvent }),
        expect: 'NOTHING',
        check: (d) => expect(d.event).toBeNull(),
      },
    ],
  },
  'Query.events': {
    probes: [
      {
        name: "bravo's events by program",
        key: 'viewerA',
        query: `{ events(programId: "${B}") { totalCount edges { node { id programId caseId } } } }`,
        expect: 'REFUSED',
      },
      {
        name: "an admin of alpha reads bravo's events",
        key: 'adminA',
        query: `{ events(programId: "${B}", includeRetracted: true) { totalCount edges { node { id caseId } } } }`,
        expect: 'REFUSED',
      },
      {
        name: "alpha's events asked for a case of bravo's",
        key: 'viewerA',
        query: `{ events(programId: "${A}", caseId: "case-bravo-1") { totalCount edges { node { id caseId } } } }`,
        expect: 'NOTHING',
        check: (d) => expect(d.events).toEqual({ totalCount: 0, edges: [] }),
      },
      {
        name: "alpha's events: alpha's alone",
        key: 'viewerA',
        query: `{ events(programId: "${A}", first: 500) { totalCount edges { node { id programId caseId } } } }`,
        expect: 'NOTHING',
        check: (d) => expect((d.events as { totalCount: number }).totalCount).toBe(4),
      },
    ],
  },
  'Query.fiscalScorecard': {
    probes: [
      {
        name: "bravo's fiscal scorecard",
        key: 'viewerA',
        query: `{ fiscalScorecard(programId: "${B}", fiscalYear: 2026) { programId rows { actual target } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Query.kpis': { none: 'the KPI registry: names, units and directions, the same for every program' },
  'Query.me': { none: "the caller's own key: its role and the programs it may see" },
  'Query.program': {
    probes: [{ name: 'bravo by id', key: 'viewerA', query: `{ program(id: "${B}") { id name } }`, expect: 'REFUSED' }],
  },
  'Query.programs': {
    probes: [
      {
        name: 'every program it may see',
        key: 'viewerA',
        query: '{ programs { id name } }',
        expect: 'NOTHING',
        check: (d) => expect(ids(d.programs)).toEqual([A]),
      },
    ],
  },
  'Query.impact': {
    probes: [
      {
        name: "bravo's annotation",
        key: 'viewerA',
        query: 'query ($id: ID!) { impact(annotationId: $id) { annotation { id title } rows { kpi before after } } }',
        variables: (w) => ({ id: w.ids.bAnnotation }),
        expect: 'REFUSED',
      },
      {
        name: "bravo's annotation, as alpha's admin",
        key: 'adminA',
        query: 'query ($id: ID!) { impact(annotationId: $id) { annotation { id title } rows { kpi before after } } }',
        variables: (w) => ({ id: w.ids.bAnnotation }),
        expect: 'REFUSED',
      },
    ],
  },
  'Query.scorecard': {
    probes: [
      {
        name: "bravo's scorecard",
        key: 'viewerA',
        query: `{ scorecard(programId: "${B}", from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z") { programId rows { actual target } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Query.targets': {
    probes: [
      {
        name: "bravo's targets",
        key: 'viewerA',
        query: `{ targets(programId: "${B}") { id value } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Query.webhookDeliveries': {
    probes: [
      {
        name: "an admin of alpha reads every program's deliveries",
        key: 'adminA',
        query: '{ webhookDeliveries { id body webhook { id programId } } }',
        expect: 'REFUSED',
      },
      {
        name: "through bravo's webhook",
        key: 'adminA',
        query: 'query ($w: ID) { webhookDeliveries(webhookId: $w) { id body } }',
        variables: (w) => ({ w: w.ids.bWebhook }),
        expect: 'REFUSED',
      },
    ],
  },
  'Query.webhooks': {
    // The every-program webhook applies to alpha's alerts too, as every-program rules do, so it is listed.
    probes: [
      {
        name: 'an admin of alpha lists webhooks',
        key: 'adminA',
        query: '{ webhooks { id url programId } }',
        expect: 'NOTHING',
        check: (d, w) => expect(ids(d.webhooks)).toEqual([w.ids.everyWebhook]),
      },
    ],
  },

  // ---- mutations (each must also leave the world unchanged)
  'Mutation.acknowledgeAlert': {
    probes: [
      {
        name: "bravo's alert",
        key: 'adminA',
        query: 'mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }',
        variables: (w) => ({ id: w.ids.bAlert }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.createAlertRule': {
    probes: [
      {
        name: 'a rule for bravo',
        key: 'adminA',
        query: `mutation { createAlertRule(input: { name: "x", programId: "${B}", kpi: CSAT, comparator: LT, threshold: 50 }) { id } }`,
        expect: 'REFUSED',
      },
      {
        name: 'a rule for every program',
        key: 'adminA',
        query: 'mutation { createAlertRule(input: { name: "x", kpi: CSAT, comparator: LT, threshold: 50 }) { id } }',
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.createApiKey': {
    probes: [
      {
        name: 'a key for bravo',
        key: 'adminA',
        query: `mutation { createApiKey(input: { name: "x", role: VIEWER, programIds: ["${B}"] }) { key } }`,
        expect: 'REFUSED',
      },
      {
        name: 'a key for alpha and bravo',
        key: 'adminA',
        query: `mutation { createApiKey(input: { name: "x", role: ADMIN, programIds: ["${A}", "${B}"] }) { key } }`,
        expect: 'REFUSED',
      },
      {
        name: 'a key for every program',
        key: 'adminA',
        query: 'mutation { createApiKey(input: { name: "x", role: ADMIN }) { key } }',
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.createProgram': {
    probes: [
      {
        name: 'a new program (it would belong to every-program keys only)',
        key: 'adminA',
        query: 'mutation { createProgram(input: { id: "charlie", name: "C" }) { id } }',
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.addDimension': {
    probes: [
      {
        name: "a dimension of bravo's",
        key: 'adminA',
        query: `mutation { addDimension(programId: "${B}", input: { key: "office", label: "Office" }) { id dimensions { key } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.updateProgram': {
    probes: [
      {
        name: "bravo's service standard",
        key: 'adminA',
        query: `mutation { updateProgram(id: "${B}", input: { resolutionStandardDays: 1 }) { id resolutionStandardDays } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.createWebhook': {
    probes: [
      {
        name: "a webhook for bravo's alerts",
        key: 'adminA',
        query: `mutation { createWebhook(input: { url: "https://x.example/h", secret: "0123456789abcdef", programId: "${B}" }) { id } }`,
        expect: 'REFUSED',
      },
      {
        name: "a webhook for every program's alerts",
        key: 'adminA',
        query: 'mutation { createWebhook(input: { url: "https://x.example/h", secret: "0123456789abcdef" }) { id } }',
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.deleteAlertRule': {
    probes: [
      {
        name: "bravo's rule",
        key: 'adminA',
        query: 'mutation ($id: ID!) { deleteAlertRule(id: $id) }',
        variables: (w) => ({ id: w.ids.bRule }),
        expect: 'REFUSED',
      },
      {
        name: 'the every-program default rule',
        key: 'adminA',
        query: 'mutation { deleteAlertRule(id: "default-avg-resolution-time") }',
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.createAnnotation': {
    probes: [
      {
        name: 'an annotation in bravo',
        key: 'adminA',
        query: `mutation { createAnnotation(input: { programId: "${B}", at: "2026-02-01T00:00:00Z", title: "x" }) { id } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.deleteAnnotation': {
    probes: [
      {
        name: "bravo's annotation",
        key: 'adminA',
        query: 'mutation ($id: ID!) { deleteAnnotation(id: $id) }',
        variables: (w) => ({ id: w.ids.bAnnotation }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.deleteTarget': {
    probes: [
      {
        name: "bravo's target",
        key: 'adminA',
        query: 'mutation ($id: ID!) { deleteTarget(id: $id) }',
        variables: (w) => ({ id: w.ids.bTarget }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.deleteWebhook': {
    probes: [
      {
        name: "bravo's webhook",
        key: 'adminA',
        query: 'mutation ($id: ID!) { deleteWebhook(id: $id) }',
        variables: (w) => ({ id: w.ids.bWebhook }),
        expect: 'REFUSED',
      },
      {
        name: 'the every-program webhook',
        key: 'adminA',
        query: 'mutation ($id: ID!) { deleteWebhook(id: $id) }',
        variables: (w) => ({ id: w.ids.everyWebhook }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.disableAlertRule': {
    probes: [
      {
        name: "bravo's rule",
        key: 'adminA',
        query: `mutation ($id: ID!) { disableAlertRule(id: $id) { ${RULE} } }`,
        variables: (w) => ({ id: w.ids.bRule }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.enableAlertRule': {
    probes: [
      {
        name: "bravo's rule",
        key: 'adminA',
        query: `mutation ($id: ID!) { enableAlertRule(id: $id) { ${RULE} } }`,
        variables: (w) => ({ id: w.ids.bRule }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.recordConflict': {
    probes: [
      {
        name: 'into bravo',
        key: 'integrationA',
        query: `mutation { recordConflict(input: { programId: "${B}", caseId: "x" }) { event { id } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.recordEvents': {
    probes: [
      {
        name: 'a batch for alpha and bravo (all or nothing: alpha gets nothing either)',
        key: 'integrationA',
        query: 'mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }',
        variables: () => ({
          e: [
            { kind: 'CONFLICT', programId: A, caseId: 'x' },
            { kind: 'CONFLICT', programId: B, caseId: 'y' },
          ],
        }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.recordResolutionTime': {
    probes: [
      {
        name: 'into bravo',
        key: 'integrationA',
        query: `mutation { recordResolutionTime(input: { programId: "${B}", caseId: "x", days: 1 }) { event { id } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.recordSatisfaction': {
    probes: [
      {
        name: 'into bravo',
        key: 'integrationA',
        query: `mutation { recordSatisfaction(input: { programId: "${B}", caseId: "x", score: 5 }) { event { id } } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.retractEvent': {
    probes: [
      {
        name: "bravo's event",
        key: 'adminA',
        query: 'mutation ($id: ID!) { retractEvent(id: $id) { id } }',
        variables: (w) => ({ id: w.ids.bEvent }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.revokeApiKey': {
    probes: [
      {
        name: "bravo's key",
        key: 'adminA',
        query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
        variables: (w) => ({ id: w.keys.viewerB.id }),
        expect: 'REFUSED',
      },
      {
        name: 'a key for every program',
        key: 'adminA',
        query: 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }',
        variables: (w) => ({ id: w.ids.unscopedKey }),
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.setTarget': {
    probes: [
      {
        name: 'a target for bravo',
        key: 'adminA',
        query: `mutation { setTarget(input: { programId: "${B}", kpi: CSAT, from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z", value: 1 }) { id } }`,
        expect: 'REFUSED',
      },
    ],
  },
  'Mutation.updateAlertRule': {
    probes: [
      {
        name: "bravo's rule",
        key: 'adminA',
        query: `mutation ($id: ID!) { updateAlertRule(id: $id, input: { threshold: 1 }) { ${RULE} } }`,
        variables: (w) => ({ id: w.ids.bRule }),
        expect: 'REFUSED',
      },
    ],
  },

  // ---- subscriptions, over a real socket
  'Subscription.alertChanged': {
    live: async (w) => {
      const client = connect(w.url, w.keys.viewerA.secret);
      await expectRefusedLive(client, `subscription { alertChanged(programId: "${B}") { ${ALERT} } }`);
      // Every program it may see: bravo's change comes first and must not arrive; alpha's must.
      const held = w.app.subscriptionsOpen(w.keys.viewerA.id);
      const all = client.subscribe(doc(`subscription { alertChanged { ${ALERT} } }`), {});
      // Open on the server before bravo's change is made, or that change would prove nothing.
      await vi.waitFor(() => expect(w.app.subscriptionsOpen(w.keys.viewerA.id)).toBe(held + 1));
      await w.send('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: w.ids.bAlert });
      await w.send('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: w.ids.aAlert });
      const first = await all.next();
      expect((first.data as { alertChanged: { id: string } }).alertChanged.id).toBe(w.ids.aAlert);
      expectNothingOf(w, all.received);
    },
  },
  'Subscription.dashboardUpdated': {
    live: async (w) => {
      const client = connect(w.url, w.keys.viewerA.secret);
      await expectRefusedLive(client, `subscription { dashboardUpdated(programId: "${B}") { resolvedCases } }`);
      // Every program it may see, all time: alpha's 3 resolutions. A record into bravo changes nothing
      // it sees; alpha's next record makes 4.
      const all = client.subscribe(
        doc(
          'subscription { dashboardUpdated { programId resolvedCases activeAlerts { id programId } targets { id programId } } }',
        ),
        {},
      );
      const first = await all.next();
      expect((first.data as { dashboardUpdated: { resolvedCases: number } }).dashboardUpdated.resolvedCases).toBe(3);
      await w.send(
        `mutation { recordResolutionTime(input: { programId: "${B}", caseId: "live-b", days: 100 }) { event { id } } }`,
      );
      await w.send(
        `mutation { recordResolutionTime(input: { programId: "${A}", caseId: "live-a", days: 1 }) { event { id } } }`,
      );
      await all.until((d: { dashboardUpdated: { resolvedCases: number } }) => d.dashboardUpdated.resolvedCases === 4);
      for (const r of all.received)
        expect([3, 4]).toContain(
          (r.data as { dashboardUpdated: { resolvedCases: number } }).dashboardUpdated.resolvedCases,
        );
      expectNothingOf(w, all.received);
    },
  },
};

/** One attempt over HTTP by a key limited to alpha (or by no key) to reach bravo. */
interface HttpProbe {
  name: string;
  key: KeyName | null;
  method: string;
  /** Path and query string. */
  path: (w: World) => string;
  body?: (w: World) => { type: string; text: string };
  /** REFUSED: 401, 403 or 404. NOTHING: a 2xx answer without bravo in it. */
  expect: 'REFUSED' | 'NOTHING';
  check?: (text: string, w: World) => void;
}

type HttpRow = { none: string } | { probes: HttpProbe[] };

/** Every HTTP route (src/http/routes.ts) by its path, `*` for the page's files: how it keeps bravo out. */
const HTTP_MATRIX: Record<string, HttpRow> = {
  '/graphql': { none: 'every field it serves has its own row in MATRIX above' },
  '/health': {
    probes: [
      { name: 'liveness holds no program data', key: null, method: 'GET', path: () => '/health', expect: 'NOTHING' },
    ],
  },
  '/ready': {
    probes: [
      { name: 'readiness holds no program data', key: null, method: 'GET', path: () => '/ready', expect: 'NOTHING' },
    ],
  },
  '/metrics': {
    probes: [
      {
        name: "an admin of alpha scrapes: alpha's KPIs, none of bravo's",
        key: 'adminA',
        method: 'GET',
        path: () => '/metrics',
        expect: 'NOTHING',
        check: (text) => expect(text).toContain(`kpi_value{program="${A}"`),
      },
      { name: 'a viewer of alpha scrapes', key: 'viewerA', method: 'GET', path: () => '/metrics', expect: 'REFUSED' },
      {
        name: 'an integration key of alpha scrapes',
        key: 'integrationA',
        method: 'GET',
        path: () => '/metrics',
        expect: 'REFUSED',
      },
      { name: 'no key', key: null, method: 'GET', path: () => '/metrics', expect: 'REFUSED' },
    ],
  },
  '/import/events': {
    probes: [
      {
        name: "an integration key of alpha imports into bravo by the request's programId",
        key: 'integrationA',
        method: 'POST',
        path: () => `/import/events?programId=${B}`,
        body: () => ({ type: 'text/csv', text: `kind,caseId,value\nRESOLUTION_TIME,case-bravo-import,1\n` }),
        expect: 'REFUSED',
      },
      {
        name: "an integration key of alpha imports rows of bravo: refused alone, nothing of bravo's in the report",
        key: 'integrationA',
        method: 'POST',
        // A dry run: the world's alpha numbers stay as the other rows expect them.
        path: () => '/import/events?dryRun=true',
        body: () => ({
          type: 'application/x-ndjson',
          text: [
            JSON.stringify({ kind: 'CONFLICT', programId: B, caseId: 'case-bravo-import' }),
            JSON.stringify({ kind: 'CONFLICT', programId: A, caseId: 'case-alpha-import' }),
          ].join('\n'),
        }),
        expect: 'NOTHING',
        check: (text) =>
          expect(JSON.parse(text)).toEqual({
            accepted: 1,
            duplicates: 0,
            rejected: 1,
            errors: [{ line: 1, field: 'programId', message: 'this key may not access the program this row names' }],
          }),
      },
      {
        name: 'a viewer of alpha imports',
        key: 'viewerA',
        method: 'POST',
        path: () => '/import/events',
        body: () => ({ type: 'text/csv', text: `kind,programId,caseId\nCONFLICT,${A},x\n` }),
        expect: 'REFUSED',
      },
      {
        name: 'no key',
        key: null,
        method: 'POST',
        path: () => '/import/events',
        body: () => ({ type: 'text/csv', text: `kind,programId,caseId\nCONFLICT,${A},x\n` }),
        expect: 'REFUSED',
      },
    ],
  },
  '/export/events.csv': {
    probes: [
      {
        name: "bravo's events",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/events.csv?programId=${B}&includeRetracted=true`,
        expect: 'REFUSED',
      },
      {
        name: "an admin of alpha exports bravo's events",
        key: 'adminA',
        method: 'GET',
        path: () => `/export/events.csv?programId=${B}`,
        expect: 'REFUSED',
      },
      {
        name: "an integration key exports alpha's events",
        key: 'integrationA',
        method: 'GET',
        path: () => `/export/events.csv?programId=${A}`,
        expect: 'REFUSED',
      },
      {
        name: "alpha's events asked for a case of bravo's",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/events.csv?programId=${A}&caseId=case-bravo-1`,
        expect: 'NOTHING',
        check: (text) => expect(text.trim().split('\r\n')).toHaveLength(1),
      },
      {
        name: "alpha's events: alpha's alone",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/events.csv?programId=${A}&includeRetracted=true`,
        expect: 'NOTHING',
        check: (text) => {
          const rows = text.trim().split('\r\n').slice(1);
          expect(rows.length).toBeGreaterThanOrEqual(4);
          for (const row of rows) expect(row.split(',')[1]).toBe(A);
        },
      },
    ],
  },
  '/export/events.ndjson': {
    probes: [
      {
        name: "bravo's events",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/events.ndjson?programId=${B}`,
        expect: 'REFUSED',
      },
      {
        name: "alpha's events: alpha's alone",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/events.ndjson?programId=${A}`,
        expect: 'NOTHING',
        check: (text) => {
          const events = text
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line));
          expect(events.length).toBeGreaterThanOrEqual(4);
          for (const event of events) expect(event.programId).toBe(A);
        },
      },
    ],
  },
  '/export/dashboard.csv': {
    probes: [
      {
        name: "bravo's dashboard",
        key: 'viewerA',
        method: 'GET',
        path: () => `/export/dashboard.csv?programId=${B}`,
        expect: 'REFUSED',
      },
      {
        name: 'the all-programs ranking by program holds alpha alone',
        key: 'viewerA',
        method: 'GET',
        path: () => '/export/dashboard.csv?from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z&by=program',
        expect: 'NOTHING',
        check: (text) =>
          expect(
            text
              .trim()
              .split('\r\n')
              .map((line) => line.split(',')[0]),
          ).toEqual(['value', A]),
      },
      {
        name: 'the all-programs series aggregates alpha alone',
        key: 'viewerA',
        method: 'GET',
        path: () => '/export/dashboard.csv?from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z',
        expect: 'NOTHING',
        // One day: alpha's 2 resolutions and 1 score; bravo's 5 and its conflict are not in it.
        check: (text) => {
          const [header, row] = text
            .trim()
            .split('\r\n')
            .map((line) => line.split(','));
          expect(row[header.indexOf('resolvedCases')]).toBe('2');
          expect(row[header.indexOf('totalConflicts')]).toBe('0');
        },
      },
    ],
  },
  '*': { none: "the page's built files (web/dist): the same for every caller, data comes only through /graphql" },
};

// ---- the world: alpha and bravo, each with events, an alert, a rule; bravo with a target and webhooks

let world: World;
let cleanup: () => void = () => {};

beforeAll(async () => {
  let databaseUrl: string;
  if (testDialect === 'postgres') databaseUrl = freshDatabaseUrl();
  else {
    const dir = mkdtempSync(path.join(tmpdir(), 'kpi-isolation-'));
    cleanup = () => rmSync(dir, { recursive: true, force: true });
    databaseUrl = path.join(dir, 'metrics.db');
  }
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    WEBHOOK_MAX_ATTEMPTS: '1',
    // The webhooks below point at this host.
    WEBHOOK_ALLOW_LOOPBACK: 'true',
  });
  const app = await buildApp(config);
  const { url } = await app.start();

  async function send(query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY): Promise<Answer> {
    const response = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer;
  }
  async function ok(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    const answer = await send(query, variables);
    if (answer.errors) throw new Error(`setup failed: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  }
  const key = async (role: string, programIds: string[] | null) => {
    const { createApiKey } = await ok(
      'mutation ($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id } } }',
      {
        i: { name: `${role} ${programIds ?? 'every'}`, role, programIds },
      },
    );
    return { secret: createApiKey.key as string, id: createApiKey.apiKey.id as string };
  };

  for (const id of [A, B])
    await ok('mutation ($i: CreateProgramInput!) { createProgram(input: $i) { id } }', {
      i: { id, name: `Program ${id}` },
    });
  const hourAgo = new Date(Date.now() - HOUR).toISOString();
  const record = (programId: string, kind: string, value: number | null, caseId: string) =>
    ok('mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }', {
      e: [{ kind, programId, caseId, value, occurredAt: hourAgo }],
    });
  // Inside the dashboard probe's range too, so totals can be told apart: alpha 2 resolutions, bravo 5.
  const inRange = '2026-02-01T00:00:00Z';
  await ok('mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }', {
    e: [
      ...[1, 2].map((i) => ({
        kind: 'RESOLUTION_TIME',
        programId: A,
        caseId: `a-${i}`,
        value: 2,
        occurredAt: inRange,
      })),
      { kind: 'SATISFACTION', programId: A, caseId: 'a-s', value: 5, occurredAt: inRange },
      ...[1, 2, 3, 4, 5].map((i) => ({
        kind: 'RESOLUTION_TIME',
        programId: B,
        caseId: `case-bravo-${i}`,
        value: 9,
        occurredAt: inRange,
      })),
      { kind: 'CONFLICT', programId: B, caseId: 'case-bravo-c', occurredAt: inRange },
    ],
  });
  // Slow resolutions in both, so the default rule fires an alert for each.
  await record(A, 'RESOLUTION_TIME', 30, 'a-slow');
  await record(B, 'RESOLUTION_TIME', 30, 'case-bravo-slow');
  const events = await app.services.db.selectFrom('events').select(['id', 'program_id']).orderBy('id').execute();
  const bEvent = String(events.find((e) => e.program_id === B)!.id);
  const aEvent = String(events.find((e) => e.program_id === A)!.id);

  const rule = async (programId: string) =>
    (
      await ok('mutation ($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { id } }', {
        i: { name: `rule ${programId}`, programId, kpi: 'TOTAL_CONFLICTS', comparator: 'GT', threshold: 1000 },
      })
    ).createAlertRule.id as string;
  const aRule = await rule(A);
  const bRule = await rule(B);
  const { setTarget } = await ok(
    `mutation { setTarget(input: { programId: "${B}", kpi: CSAT, from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z", value: 90 }) { id } }`,
  );
  const { createAnnotation } = await ok(
    `mutation { createAnnotation(input: { programId: "${B}", at: "2026-02-01T00:00:00Z", title: "bravo-annotation" }) { id } }`,
  );
  const webhook = async (programId: string | null) =>
    (
      await ok('mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { id } }', {
        i: { url: 'http://127.0.0.1:9/hook', secret: '0123456789abcdef', programId },
      })
    ).createWebhook.id as string;
  const bWebhook = await webhook(B);
  const everyWebhook = await webhook(null);

  await app.services.alerts.engine.judge(null);
  const { alerts } = await ok('{ alerts { id programId state } }');
  const alertOf = (programId: string) =>
    alerts.find((a: { programId: string }) => a.programId === programId).id as string;

  const keys = {
    viewerA: await key('VIEWER', [A]),
    integrationA: await key('INTEGRATION', [A]),
    adminA: await key('ADMIN', [A]),
    viewerB: await key('VIEWER', [B]),
  };
  const unscopedKey = (await key('ADMIN', null)).id;

  const ids = {
    bRule,
    aRule,
    bAlert: alertOf(B),
    aAlert: alertOf(A),
    bTarget: setTarget.id,
    bAnnotation: createAnnotation.id,
    bWebhook,
    everyWebhook,
    bEvent,
    aEvent,
    unscopedKey,
  };
  const markers = [
    B,
    'case-bravo',
    bRule,
    ids.bAlert,
    ids.bTarget,
    ids.bAnnotation,
    'bravo-annotation',
    bWebhook,
    keys.viewerB.id,
    unscopedKey,
  ];
  world = { app, url: url.replace(/^http/, 'ws'), httpUrl: url, keys, ids, markers, send };
}, 60_000);

afterAll(async () => {
  await world?.app.stop();
  cleanup();
});

// ---- helpers

const ids = (list: unknown) => (list as { id: string }[]).map((item) => item.id);
const doc = (query: string) => parse(query) as TypedDocumentNode<any, Record<string, never>>;

function expectNothingOf(w: World, data: unknown) {
  const text = JSON.stringify(data ?? null);
  for (const marker of w.markers) expect(text, `bravo's "${marker}" leaked`).not.toContain(marker);
  // Bravo's event ids are numbers: look for them as ids only.
  expect(text).not.toContain(`"id":"${w.ids.bEvent}"`);
}

/** What the unscoped admin sees of the world, less what moves by itself (delivery attempts). */
async function snapshot(w: World) {
  const answer = await w.send(`{
    programs { id name }
    apiKeys { id revokedAt programIds role }
    alertRules { id programId enabled threshold name }
    alerts { id programId state acknowledgedAt }
    a: dashboard(programId: "${A}") { resolvedCases totalConflicts satisfactionResponses }
    b: dashboard(programId: "${B}") { resolvedCases totalConflicts satisfactionResponses }
    ta: targets(programId: "${A}") { id value }
    tb: targets(programId: "${B}") { id value }
    bn: dashboard(programId: "${B}", from: "2026-01-01T00:00:00Z", to: "2026-04-01T00:00:00Z") { annotations { id title } }
    webhooks { id programId }
    be: event(id: "${w.ids.bEvent}") { retractedAt }
  }`);
  expect(answer.errors).toBeUndefined();
  return answer.data;
}

async function expectRefusedLive(client: LiveClient, query: string) {
  const stream = client.subscribe(doc(query), {});
  const result: { data?: unknown; errors?: unknown } = await stream
    .next()
    .catch((error: unknown) => ({ errors: Array.isArray(error) ? error : [error] }));
  const codes = (result.errors as { extensions?: { code?: string } }[] | undefined)?.map((e) => e.extensions?.code);
  expect(codes?.length).toBeGreaterThan(0);
  for (const code of codes!) expect(['FORBIDDEN', 'NOT_FOUND']).toContain(code);
  expect(result.data ?? null).toBeNull();
}

// ---- the tests

describe('the isolation matrix', () => {
  const rootFields = (['Query', 'Mutation', 'Subscription'] as const).flatMap((type) => {
    const root =
      type === 'Query'
        ? schema.getQueryType()
        : type === 'Mutation'
          ? schema.getMutationType()
          : schema.getSubscriptionType();
    return Object.keys(root!.getFields()).map((field) => `${type}.${field}`);
  });

  it('has a row for every Query, Mutation and Subscription field of the schema, and none for a field that is gone', () => {
    expect(
      rootFields.filter((field) => !(field in MATRIX)),
      'fields without a row: add a probe, or say why they hold no program data',
    ).toEqual([]);
    expect(Object.keys(MATRIX).filter((field) => !rootFields.includes(field))).toEqual([]);
  });

  const probes = Object.entries(MATRIX).flatMap(([field, row]) =>
    'probes' in row ? row.probes.map((probe) => ({ field, probe })) : [],
  );

  it.each(probes.map(({ field, probe }) => [`${field}: ${probe.name} (${probe.key})`, field, probe] as const))(
    '%s',
    async (_, field, probe) => {
      const w = world;
      const before = field.startsWith('Mutation.') ? await snapshot(w) : null;
      const answer = await w.send(probe.query, probe.variables?.(w) ?? {}, w.keys[probe.key].secret);
      const name = field.split('.')[1];
      if (probe.expect === 'REFUSED') {
        const codes = answer.errors?.map((e) => e.extensions?.code) ?? [];
        expect(codes.length, `expected a refusal, got ${JSON.stringify(answer)}`).toBeGreaterThan(0);
        for (const code of codes) expect(['FORBIDDEN', 'NOT_FOUND']).toContain(code);
        expect(answer.data?.[name] ?? null).toBeNull();
      } else {
        expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
        probe.check?.(answer.data!, w);
      }
      expectNothingOf(w, answer.data);
      if (before) expect(await snapshot(w), 'a refused mutation changed the world').toEqual(before);
    },
  );

  const lives = Object.entries(MATRIX).flatMap(([field, row]) => ('live' in row ? [[field, row.live] as const] : []));
  it.each(lives)('%s keeps bravo out of a live stream', async (_, live) => {
    await live(world);
  });
});

describe('the isolation matrix over HTTP routes', () => {
  const paths = [...HTTP_ROUTES, PAGE_ROUTE].map((route) => route.path);

  it('has a row for every HTTP route of src/http/routes.ts, and none for a route that is gone', () => {
    expect(
      paths.filter((route) => !(route in HTTP_MATRIX)),
      'routes without a row in HTTP_MATRIX: add a probe, or say why they hold no program data',
    ).toEqual([]);
    expect(Object.keys(HTTP_MATRIX).filter((route) => !paths.includes(route))).toEqual([]);
  });

  const probes = Object.entries(HTTP_MATRIX).flatMap(([route, row]) =>
    'probes' in row
      ? row.probes.map((probe) => [`${route}: ${probe.name} (${probe.key ?? 'no key'})`, probe] as const)
      : [],
  );
  it.each(probes)('%s', async (_, probe) => {
    const w = world;
    const body = probe.body?.(w);
    const headers: Record<string, string> = {};
    if (probe.key) headers.authorization = `Bearer ${w.keys[probe.key].secret}`;
    if (body) headers['content-type'] = body.type;
    const response = await fetch(new URL(probe.path(w), w.httpUrl), {
      method: probe.method,
      headers,
      body: body?.text,
    });
    const text = await response.text();
    if (probe.expect === 'REFUSED') expect([401, 403, 404], text).toContain(response.status);
    else {
      expect(response.status, text).toBeGreaterThanOrEqual(200);
      expect(response.status, text).toBeLessThan(300);
      probe.check?.(text, w);
    }
    // A refusal may name the program the probe itself asked for (`may not access program "bravo"`), nothing more.
    const asked = probe.expect === 'REFUSED' && probe.path(w).includes(`programId=${B}`);
    expectNothingOf(w, asked ? text.replaceAll(`program \\"${B}\\"`, 'program') : text);
  });
});
