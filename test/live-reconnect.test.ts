/**
 * Reconnect storms: what bounds subscription starts over WebSocket (src/realtime/subscription-admission.ts)
 * is what protects the server, not the request rate, so every page sharing a key gets its dashboard
 * back after a restart, while one socket that churns subscriptions is still stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type App } from '../src/app.js';
import { MonitoringClient, type MonitoringError } from '../src/client/index.js';
import { ClientDashboardTotalsUpdatedDocument } from '../src/client/generated.js';
import { loadConfig } from '../src/config.js';
import { sharedPayloadStats } from '../src/realtime/shared-payloads.js';
import {
  CreateAlertRuleDocument,
  CreateApiKeyDocument,
  CreateProgramDocument,
  LiveDashboardDocument,
  RecordResolutionTimeDocument,
} from './generated/operations.js';
import { ADMIN_KEY, operationsOn, testApp, testDialect } from './helpers/app.js';
import { connect, listen } from './helpers/ws.js';

const PAGES = 2_000;
const DAY = 86_400_000;

/** What one page holds: the typed client and, per subscription, the results received since a mark. */
interface Page {
  client: MonitoringClient;
  dashboards: number;
  previous: number;
  alerts: number;
}

describe('a reconnect storm', () => {
  // The database plays no part here: the SQLite run alone keeps the machine free for the rest.
  it.runIf(testDialect === 'sqlite')(
    'brings back all 6,000 subscriptions of 2,000 pages on one VIEWER key within 30 s of a restart, none refused',
    { timeout: 240_000 },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'kpi-storm-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      // The defaults of every limit: the request rate (burst 120, 10 a second) among them.
      const env = { DATABASE_URL: path.join(dir, 'metrics.db'), ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' };
      let app: App = await buildApp(loadConfig({ ...env, PORT: '0' }));
      onTestFinished(() => app.stop());
      const { port, url } = await app.start();
      const admin = () => operationsOn(app);
      await admin().ok(CreateProgramDocument, { input: { id: 'A', name: 'Program A', timezone: 'UTC' } });
      const { createApiKey } = await admin().ok(CreateApiKeyDocument, {
        input: { name: 'the office', role: 'VIEWER', programIds: null },
      });
      const viewer = createApiKey.key;
      // Fires on the first resolution after the restart: every page's alert subscription must hear it.
      await admin().ok(CreateAlertRuleDocument, {
        input: { name: 'slow', programId: 'A', kpi: 'AVG_RESOLUTION_TIME', comparator: 'GT', threshold: 5 },
      });

      // Each page opens what web/src/main.ts opens: its dashboard, the period before (totals), and alerts.
      const now = Date.now();
      const refusals: MonitoringError[] = [];
      const pages: Page[] = [];
      for (let i = 0; i < PAGES; i++) {
        const page: Page = {
          client: new MonitoringClient({ url, apiKey: viewer, webSocketImpl: WebSocket }),
          dashboards: 0,
          previous: 0,
          alerts: 0,
        };
        const error = (e: MonitoringError) => refusals.push(e);
        page.client.subscribeDashboard(
          { programId: 'A', from: new Date(now - 15 * DAY), to: new Date(now + 15 * DAY) },
          { next: () => page.dashboards++, error },
        );
        page.client.subscribe(
          ClientDashboardTotalsUpdatedDocument,
          {
            programId: 'A',
            from: new Date(now - 45 * DAY).toISOString(),
            to: new Date(now - 15 * DAY).toISOString(),
          },
          { next: () => page.previous++, error },
        );
        page.client.subscribeAlerts({ programId: 'A' }, { next: () => page.alerts++, error });
        pages.push(page);
      }
      onTestFinished(() => Promise.all(pages.map((p) => p.client.close())).then(() => {}));
      const subscribed = () => app.services.feed.stats().subscribers;
      const everyPage = (test: (page: Page) => boolean) => pages.filter(test).length;
      await vi.waitFor(() => expect(everyPage((p) => p.dashboards > 0 && p.previous > 0)).toBe(PAGES), {
        timeout: 120_000,
        interval: 200,
      });
      expect(refusals).toEqual([]);

      // The restart: every socket hears 1001 and its client reconnects, with jitter, to the new process.
      await app.stop();
      for (const page of pages) page.dashboards = page.previous = 0;
      app = await buildApp(loadConfig({ ...env, PORT: String(port) }));
      await app.start();
      const restarted = Date.now();
      await vi.waitFor(
        () => {
          expect(everyPage((p) => p.dashboards > 0 && p.previous > 0)).toBe(PAGES);
          // Both dashboards of every page (one feed subscriber each), and the alert streams: 6,000 open.
          expect(subscribed()).toBe(2 * PAGES);
          expect(app.subscriptionsOpen(createApiKey.apiKey.id)).toBe(3 * PAGES);
        },
        { timeout: 30_000, interval: 100 },
      );
      // Live, not only open: one change reaches every page's dashboard and its alert subscription.
      await admin().ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'late', days: 9 } });
      await vi.waitFor(() => expect(everyPage((p) => p.dashboards > 1 && p.alerts > 0)).toBe(PAGES), {
        timeout: Math.max(1_000, 30_000 - (Date.now() - restarted)),
        interval: 100,
      });
      expect(refusals).toEqual([]);

      // One socket on the same key that opens and closes subscriptions in a loop is stopped.
      const looping = connect(url.replace(/^http/, 'ws'), viewer);
      let refused = null;
      for (let i = 0; i < 200 && !refused; i++) {
        const stream = looping.subscribe(LiveDashboardDocument, { programId: 'A' });
        const first = await stream.next(10_000);
        stream.unsubscribe();
        if (first.errors) refused = { at: i, error: first.errors[0] };
      }
      expect(refused?.error.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(refused?.at).toBeGreaterThanOrEqual(app.services.config.liveSubscriptions.socketBurst);
    },
  );
});

describe('subscription starts over WebSocket', () => {
  it('are not counted against the request rate', async () => {
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '2', LIVE_THROTTLE_MS: '0' } });
    await t.program('A');
    const viewer = await t.key('VIEWER');
    const url = await listen(t);
    const live = connect(url, viewer);
    const streams = Array.from({ length: 10 }, () => live.subscribe(LiveDashboardDocument, { programId: 'A' }));
    for (const stream of streams) expect((await stream.next()).errors).toBeUndefined();
    // The key's request bucket is untouched: two requests pass, the third is refused.
    const me = () =>
      t.app
        .fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
          body: JSON.stringify({ query: '{ me { role } }' }),
        })
        .then((response) => response.status);
    expect([await me(), await me(), await me()]).toEqual([200, 200, 429]);
  });

  it('stop at the per-key cap with LIMIT_EXCEEDED, across sockets, and admit again once one ends', async () => {
    const t = await testApp({ env: { LIVE_MAX_SUBSCRIPTIONS_PER_KEY: '3', LIVE_THROTTLE_MS: '0' } });
    await t.program('A');
    const { createApiKey } = await t.ok(CreateApiKeyDocument, { input: { name: 'office', role: 'VIEWER' } });
    const viewer = createApiKey.key;
    const open = () => t.app.subscriptionsOpen(createApiKey.apiKey.id);
    const url = await listen(t);
    const one = connect(url, viewer);
    const two = connect(url, viewer);
    const held = [
      one.subscribe(LiveDashboardDocument, { programId: 'A' }),
      one.subscribe(LiveDashboardDocument, { programId: 'A' }),
      two.subscribe(LiveDashboardDocument, { programId: 'A' }),
    ];
    for (const stream of held) expect((await stream.next()).errors).toBeUndefined();
    const over = await two.subscribe(LiveDashboardDocument, { programId: 'A' }).next();
    expect(over.errors?.[0].extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'subscriptionsPerKey', max: 3 });
    expect(over.errors?.[0].message).toMatch(/LIVE_MAX_SUBSCRIPTIONS_PER_KEY/);
    // Another key has its own count.
    expect(
      (await connect(url, ADMIN_KEY).subscribe(LiveDashboardDocument, { programId: 'A' }).next()).errors,
    ).toBeUndefined();
    // A refusal by the resolver holds nothing, and an ended subscription gives its place back.
    held[0].unsubscribe();
    await vi.waitFor(() => expect(open()).toBe(2));
    const missing = await two.subscribe(LiveDashboardDocument, { programId: 'nope' }).next();
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(open()).toBe(2);
    expect((await two.subscribe(LiveDashboardDocument, { programId: 'A' }).next()).errors).toBeUndefined();
    // A closed socket gives back all it held.
    await one.client.dispose();
    await vi.waitFor(() => expect(open()).toBe(2));
  });
});

describe('a push to many subscribers', () => {
  it('is serialized once and reaches each subscription under its own id, whole', async () => {
    const t = await testApp({ env: { LIVE_THROTTLE_MS: '0' } });
    await t.program('A');
    const url = await listen(t);
    const viewer = await t.key('VIEWER');
    const streams = [connect(url, viewer), connect(url, viewer), connect(url, ADMIN_KEY)].flatMap((client) => [
      client.subscribe(LiveDashboardDocument, { programId: 'A' }),
      client.subscribe(LiveDashboardDocument, { programId: 'A' }),
    ]);
    for (const stream of streams) expect((await stream.next()).data?.dashboardUpdated.resolvedCases).toBe(0);
    const before = { ...sharedPayloadStats };
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'c', days: 3 } });
    const pushed = await Promise.all(streams.map((stream) => stream.next()));
    for (const result of pushed) expect(result).toEqual(pushed[0]);
    expect(pushed[0].data?.dashboardUpdated).toMatchObject({ resolvedCases: 1, avgResolutionTime: 3 });
    // Six subscriptions, two roles (VIEWER and ADMIN execute apart): two serializations, six messages.
    expect(sharedPayloadStats.serialized - before.serialized).toBe(2);
    expect(sharedPayloadStats.messages - before.messages).toBe(6);
  });
});
