/** dashboardUpdated through a real graphql-ws client over a real socket (and once over SSE). */
import { describe, expect, it, vi } from 'vitest';
import {
  CreateApiKeyDocument,
  LiveDashboardAlertsDocument,
  LiveDashboardDocument,
  LiveDashboardSeriesDocument,
  RecordEventsDocument,
  RecordResolutionTimeDocument,
  RetractEventDocument,
  RevokeApiKeyDocument,
} from './generated/operations.js';
import { testApp, type TestApp } from './helpers/app.js';
import { connect, listen } from './helpers/ws.js';

const FROM = '2024-03-01T00:00:00.000Z';
const TO = '2024-04-01T00:00:00.000Z';
const INSIDE = '2024-03-15T12:00:00.000Z';
const BEFORE = '2024-02-20T00:00:00.000Z';
const AFTER = '2024-04-02T00:00:00.000Z';

/** An app listening on a free port, with programs A and B; no throttle unless told, so every change is pushed. */
async function liveApp(throttleMs = 0) {
  const t = await testApp({ env: { LIVE_THROTTLE_MS: String(throttleMs) } });
  await t.program('A');
  await t.program('B');
  const url = await listen(t);
  return { t, url, feed: t.app.services.feed };
}

function resolution(t: TestApp, programId: string, days: number, occurredAt?: string) {
  return t.ok(RecordResolutionTimeDocument, { input: { programId, caseId: `case-${days}`, days, occurredAt } });
}

describe('dashboardUpdated', () => {
  it('sends the current dashboard at once', async () => {
    const { t, url } = await liveApp();
    await resolution(t, 'A', 3);
    const live = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardDocument, { programId: 'A' });
    const first = await live.next();
    expect(first.errors).toBeUndefined();
    expect(first.data?.dashboardUpdated).toMatchObject({ programId: 'A', resolvedCases: 1, avgResolutionTime: 3 });
  });

  it('pushes the new KPIs after a record', async () => {
    const { t, url } = await liveApp();
    const live = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardDocument, { programId: 'A' });
    expect((await live.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 0, avgResolutionTime: null });
    await resolution(t, 'A', 4);
    expect((await live.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 1, avgResolutionTime: 4 });
  });

  it('pushes after a batch and after a retraction', async () => {
    const { t, url } = await liveApp();
    const live = connect(url, await t.key('VIEWER')).subscribe(LiveDashboardDocument, { programId: 'A' });
    await live.next();
    await t.ok(RecordEventsDocument, {
      events: [1, 2, 6].map((value, i) => ({
        programId: 'A',
        caseId: `c${i}`,
        kind: 'RESOLUTION_TIME' as const,
        value,
      })),
    });
    expect((await live.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 3, avgResolutionTime: 3 });

    const recorded = await resolution(t, 'A', 11);
    await live.until((d) => d.dashboardUpdated.resolvedCases === 4);
    await t.ok(RetractEventDocument, { id: recorded.recordResolutionTime.event.id });
    expect((await live.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 3, avgResolutionTime: 3 });
  });

  it('pushes a late event inside its range, and nothing for changes outside the range', async () => {
    const { t, url, feed } = await liveApp();
    const client = connect(url, await t.key('VIEWER', ['A']));
    const ranged = client.subscribe(LiveDashboardDocument, { programId: 'A', from: FROM, to: TO });
    // A witness with an open range hears every change, so each one is known to have been handled.
    const witness = client.subscribe(LiveDashboardDocument, { programId: 'A' });
    expect((await ranged.next()).data?.dashboardUpdated).toMatchObject({ from: FROM, to: TO, resolvedCases: 0 });
    await witness.next();

    await resolution(t, 'A', 8, BEFORE);
    await witness.until((d) => d.dashboardUpdated.resolvedCases === 1);
    await resolution(t, 'A', 9, AFTER);
    await witness.until((d) => d.dashboardUpdated.resolvedCases === 2);
    // Two snapshots and the witness's two updates; the ranged scope computed nothing more.
    expect(feed.stats().computations).toBe(4);

    await resolution(t, 'A', 2, INSIDE);
    expect((await ranged.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 1, avgResolutionTime: 2 });
    expect(ranged.received).toHaveLength(2);
  });

  it('keeps programs apart: a change in B reaches only B', async () => {
    const { t, url, feed } = await liveApp();
    const a = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardDocument, { programId: 'A' });
    const b = connect(url, await t.key('VIEWER', ['B'])).subscribe(LiveDashboardDocument, { programId: 'B' });
    await a.next();
    await b.next();

    await resolution(t, 'B', 10);
    expect((await b.next()).data?.dashboardUpdated).toMatchObject({
      programId: 'B',
      resolvedCases: 1,
      avgResolutionTime: 10,
    });
    await resolution(t, 'A', 2);
    expect((await a.next()).data?.dashboardUpdated).toMatchObject({
      programId: 'A',
      resolvedCases: 1,
      avgResolutionTime: 2,
    });
    expect(a.received).toHaveLength(2);
    expect(feed.stats().scopes).toBe(2);
  });

  it("carries only the key's programs in an all-programs subscription", async () => {
    const { t, url } = await liveApp();
    const viewerOfA = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardDocument, {});
    const admin = connect(url, await t.key('ADMIN')).subscribe(LiveDashboardDocument, {});
    await viewerOfA.next();
    await admin.next();

    await resolution(t, 'B', 10);
    expect((await admin.next()).data?.dashboardUpdated).toMatchObject({ programId: null, resolvedCases: 1 });
    await resolution(t, 'A', 2);
    // B's record was never pushed to the viewer of A, and A's numbers come without B's.
    expect((await viewerOfA.next()).data?.dashboardUpdated).toMatchObject({
      programId: null,
      resolvedCases: 1,
      avgResolutionTime: 2,
    });
    expect(viewerOfA.received).toHaveLength(2);
    expect((await admin.next()).data?.dashboardUpdated).toMatchObject({ resolvedCases: 2, avgResolutionTime: 6 });
  });

  it('coalesces a burst of records and still ends on the last state', async () => {
    const { t, url, feed } = await liveApp(500);
    const live = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardDocument, { programId: 'A' });
    await live.next();
    for (let i = 1; i <= 12; i++) await resolution(t, 'A', i);

    const last = await live.until((d) => d.dashboardUpdated.resolvedCases === 12);
    expect(last.dashboardUpdated.avgResolutionTime).toBe(6.5);
    // Twelve changes, fewer pushes: the burst was coalesced, and its last state came through.
    expect(live.received.length).toBeLessThan(1 + 12);
    expect(feed.stats().computations).toBe(live.received.length);
  });

  it('shares one computation per change among subscribers of the same scope', async () => {
    const { t, url, feed } = await liveApp();
    const one = connect(url, await t.key('VIEWER', ['A']));
    const other = connect(url, await t.key('VIEWER', ['A', 'B']));
    const streams = [
      ...Array.from({ length: 10 }, () => one.subscribe(LiveDashboardDocument, { programId: 'A' })),
      other.subscribe(LiveDashboardDocument, { programId: 'A' }),
      // The zone the program already has by default: the same scope.
      other.subscribe(LiveDashboardSeriesDocument, { programId: 'A', timezone: 'UTC' }),
    ];
    await Promise.all(streams.map((s) => s.next()));
    expect(feed.stats()).toMatchObject({ scopes: 1, subscribers: 12, computations: 1 });

    await resolution(t, 'A', 5);
    const updates = await Promise.all(streams.map((s) => s.next()));
    for (const update of updates) expect(update.data?.dashboardUpdated).toMatchObject({ resolvedCases: 1 });
    expect(feed.stats().computations).toBe(2);
    // One shared view, yet each operation gets its own selection.
    expect(updates[0].data?.dashboardUpdated).not.toHaveProperty('series');
    expect(updates[11].data?.dashboardUpdated).toMatchObject({ timezone: 'UTC', series: [{ resolvedCases: 1 }] });
  });

  it('gives different arguments or different visible programs their own scope', async () => {
    const { t, url, feed } = await liveApp();
    const admin = connect(url, await t.key('ADMIN'));
    const viewerOfA = connect(url, await t.key('VIEWER', ['A']));
    await Promise.all([
      admin.subscribe(LiveDashboardDocument, {}).next(),
      viewerOfA.subscribe(LiveDashboardDocument, {}).next(),
      admin.subscribe(LiveDashboardDocument, { programId: 'A', from: FROM }).next(),
      admin.subscribe(LiveDashboardSeriesDocument, { programId: 'A', timezone: 'Europe/Paris' }).next(),
    ]);
    expect(feed.stats().scopes).toBe(4);
  });

  it('pushes again when an alert of its programs opens, so activeAlerts stays current', async () => {
    const { t, url } = await liveApp();
    const live = connect(url, await t.key('VIEWER', ['A'])).subscribe(LiveDashboardAlertsDocument, { programId: 'A' });
    expect((await live.next()).data?.dashboardUpdated).toEqual({ resolvedCases: 0, activeAlerts: [] });
    // The default rule: average resolution time over 30 days above 7 days fires.
    await resolution(t, 'A', 10);
    const alerted = await live.until((d) => d.dashboardUpdated.activeAlerts.length > 0);
    expect(alerted.dashboardUpdated).toEqual({ resolvedCases: 1, activeAlerts: [{ state: 'FIRING', programId: 'A' }] });
  });

  it('answers invalid arguments with BAD_USER_INPUT and keeps the socket usable', async () => {
    const { t, url } = await liveApp();
    const client = connect(url, await t.key('VIEWER'));
    const backwards = await client.subscribe(LiveDashboardDocument, { programId: 'A', from: TO, to: FROM }).next();
    expect(backwards.errors?.[0]).toMatchObject({
      message: 'from must be before to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const badZone = await client
      .subscribe(LiveDashboardSeriesDocument, { programId: 'A', timezone: 'Mars/Olympus' })
      .next();
    expect(badZone.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badDate = await client.subscribe(LiveDashboardDocument, { programId: 'A', from: 'yesterday' }).next();
    expect(badDate.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const fine = await client.subscribe(LiveDashboardDocument, { programId: 'A' }).next();
    expect(fine.data?.dashboardUpdated.programId).toBe('A');
  });

  it('refuses a viewer of A subscribing to B with FORBIDDEN, and an unknown program with NOT_FOUND', async () => {
    const { t, url, feed } = await liveApp();
    const client = connect(url, await t.key('VIEWER', ['A']));
    const forbidden = await client.subscribe(LiveDashboardDocument, { programId: 'B' }).next();
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(forbidden.data ?? null).toBeNull();
    const integration = connect(url, await t.key('INTEGRATION'));
    expect(
      (await integration.subscribe(LiveDashboardDocument, { programId: 'A' }).next()).errors?.[0].extensions?.code,
    ).toBe('FORBIDDEN');
    const admin = connect(url, await t.key('ADMIN'));
    expect((await admin.subscribe(LiveDashboardDocument, { programId: 'Z' }).next()).errors?.[0].extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect(feed.stats().scopes).toBe(0);
  });

  it('serves the subscription over server-sent events too, and frees it when the reader goes', async () => {
    const { t, feed } = await liveApp();
    const key = await t.key('VIEWER', ['A']);
    await resolution(t, 'A', 7);
    const response = await sse(
      t,
      key,
      'subscription { dashboardUpdated(programId: "A") { resolvedCases avgResolutionTime } }',
    );
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n') || !text.includes('data:'))
      text += new TextDecoder().decode((await reader.read()).value);
    const data = JSON.parse(
      text
        .split('\n')
        .find((line) => line.startsWith('data:'))!
        .slice(5),
    );
    expect(data).toEqual({ data: { dashboardUpdated: { resolvedCases: 1, avgResolutionTime: 7 } } });
    expect(feed.stats().scopes).toBe(1);
    await reader.cancel();
    await vi.waitFor(() => expect(feed.stats().scopes).toBe(0));
  });

  it('ends a server-sent events subscription when its key is revoked', async () => {
    const { t, feed } = await liveApp();
    const { createApiKey } = await t.ok(CreateApiKeyDocument, {
      input: { name: 'feed reader', role: 'VIEWER', programIds: null },
    });
    const response = await sse(
      t,
      createApiKey.key,
      'subscription { dashboardUpdated(programId: "A") { resolvedCases } }',
    );
    const reader = response.body!.getReader();
    await reader.read();
    expect(feed.stats().subscribers).toBe(1);

    await t.ok(RevokeApiKeyDocument, { id: createApiKey.apiKey.id });
    for (;;) if ((await reader.read()).done) break; // the stream ends
    expect(feed.stats().subscribers).toBe(0);
  });
});

function sse(t: TestApp, key: string, query: string) {
  return t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
}
