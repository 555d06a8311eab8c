/** The typed client against a running server: the brief's scenario, retries that never count twice, live pushes. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MonitoringClient, MonitoringError } from '../src/client/index.js';
import { reconnectDelay } from '../src/client/retry.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';

const fastRetry = { retries: 4, baseDelayMs: 1, maxDelayMs: 5 };

async function runningApp() {
  const t = await testApp();
  const { url } = await t.app.start();
  return { t, url };
}

function clientFor(url: string, apiKey = ADMIN_KEY) {
  const client = new MonitoringClient({ url, apiKey, retry: fastRetry });
  onTestFinished(() => client.close());
  return client;
}

interface Seen {
  body: string;
}

/**
 * A proxy in front of the server whose `fault` decides, per request, what goes wrong: 'drop' passes
 * the request on and then cuts the connection before the answer gets back; '503' answers 503 itself.
 */
async function faultyProxy(target: string, fault: (n: number, body: string) => 'drop' | '503' | null) {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ body });
    const what = fault(seen.length, body);
    if (what === '503') {
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' }).end('busy');
      return;
    }
    const headers = {
      'content-type': String(req.headers['content-type']),
      authorization: String(req.headers.authorization),
    };
    const answer = await fetch(target, { method: 'POST', headers, body });
    const text = await answer.text();
    if (what === 'drop') {
      // The server has committed and answered; the client never hears it.
      req.socket.destroy();
      return;
    }
    res
      .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
      .end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen };
}

const keyOf = (body: string) => (JSON.parse(body).variables.input?.idempotencyKey ?? null) as string | null;

describe('the typed client', () => {
  it("records the brief's scenario and reads the dashboard back: average 5 days, satisfaction 4.2, one conflict", async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const mon = clientFor(url);

    const resolution = await mon.recordResolutionTime({ programId: 'HA', caseId: 'HA-001', days: 5 });
    await mon.recordSatisfaction({ programId: 'HA', caseId: 'HA-001', score: 4.2 });
    await mon.recordConflict({ programId: 'HA', caseId: 'HA-002', reason: 'escalated' });

    expect(resolution).toMatchObject({
      duplicate: false,
      event: { kind: 'RESOLUTION_TIME', caseId: 'HA-001', value: 5 },
    });
    const dashboard = await mon.getDashboard({ programId: 'HA' });
    expect(dashboard).toMatchObject({
      avgResolutionTime: 5,
      avgSatisfaction: 4.2,
      totalConflicts: 1,
      resolvedCases: 1,
    });
  });

  it('retries a record whose answer was dropped with the same idempotency key, and it counts once', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const proxy = await faultyProxy(url, (n) => (n === 1 ? 'drop' : null));
    const mon = clientFor(proxy.url);

    const result = await mon.recordResolutionTime({ programId: 'HA', caseId: 'HA-001', days: 5 });

    expect(proxy.seen).toHaveLength(2);
    expect(keyOf(proxy.seen[0].body)).toMatch(/^[0-9a-f-]{36}$/);
    expect(keyOf(proxy.seen[1].body)).toBe(keyOf(proxy.seen[0].body));
    expect(result.duplicate).toBe(true); // the server recognised the retry and stored nothing new
    const dashboard = await clientFor(url).getDashboard({ programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(1);
  });

  it('retries a 503 and a dropped batch, and every event of the batch counts once', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const proxy = await faultyProxy(url, (n) => (n === 1 ? '503' : n === 2 ? 'drop' : null));
    const mon = clientFor(proxy.url);

    const result = await mon.recordEvents([
      { kind: 'RESOLUTION_TIME', programId: 'HA', caseId: 'HA-001', value: 3 },
      { kind: 'SATISFACTION', programId: 'HA', caseId: 'HA-001', value: 5 },
      { kind: 'CONFLICT', programId: 'HA', caseId: 'HA-002' },
    ]);

    expect(proxy.seen).toHaveLength(3);
    expect(result).toEqual({ accepted: 0, duplicates: 3 }); // the dropped try had stored them all
    const dashboard = await clientFor(url).getDashboard({ programId: 'HA' });
    expect(dashboard).toMatchObject({ resolvedCases: 1, satisfactionResponses: 1, totalConflicts: 1 });
  });

  it('gives each record call its own key and keeps one the caller chose', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const proxy = await faultyProxy(url, () => null);
    const mon = clientFor(proxy.url);

    await mon.recordSatisfaction({ programId: 'HA', caseId: 'C-1', score: 4 });
    await mon.recordSatisfaction({ programId: 'HA', caseId: 'C-1', score: 4 });
    const mine = await mon.recordSatisfaction({
      programId: 'HA',
      caseId: 'C-2',
      score: 3,
      idempotencyKey: 'survey-77',
    });

    expect(keyOf(proxy.seen[0].body)).not.toBe(keyOf(proxy.seen[1].body));
    expect(keyOf(proxy.seen[2].body)).toBe('survey-77');
    expect(mine.event.caseId).toBe('C-2');
  });

  it('does not retry an answer: bad input fails at once with its code and field', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const proxy = await faultyProxy(url, () => null);
    const mon = clientFor(proxy.url);

    const failure = await mon.recordSatisfaction({ programId: 'HA', caseId: 'C-1', score: 9 }).catch((e) => e);

    expect(failure).toBeInstanceOf(MonitoringError);
    expect(failure).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(failure.message).toMatch(/score/);
    expect(proxy.seen).toHaveLength(1);
  });

  it('gives up with a NETWORK error when the server cannot be reached', async () => {
    const mon = new MonitoringClient({
      url: 'http://127.0.0.1:1/graphql',
      apiKey: 'k',
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(mon.getDashboard()).rejects.toMatchObject({ code: 'NETWORK' });
  });

  it('reads a scorecard with one row per KPI', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const mon = clientFor(url);
    await mon.recordResolutionTime({
      programId: 'HA',
      caseId: 'HA-001',
      days: 5,
      occurredAt: new Date(Date.now() - 60_000),
    });

    const card = await mon.getScorecard('HA', new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));

    expect(card.rows.map((r) => r.kpi)).toContain('AVG_RESOLUTION_TIME');
    expect(card.rows.find((r) => r.kpi === 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 5 });
  });

  it('pushes the dashboard at once, then again after a record', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const mon = clientFor(url);
    const pushes: (number | null)[] = [];
    let onPush = () => {};
    /** Resolves once a push satisfies `holds` (checked now and after each push). */
    const until = (holds: () => boolean) =>
      new Promise<void>((resolve) => {
        onPush = () => holds() && resolve();
        onPush();
      });

    const unsubscribe = mon.subscribeDashboard(
      { programId: 'HA' },
      {
        next: (dashboard) => {
          pushes.push(dashboard.avgResolutionTime);
          onPush();
        },
        error: (error) => {
          throw error;
        },
      },
    );
    onTestFinished(unsubscribe);

    await until(() => pushes.length === 1);
    await mon.recordResolutionTime({ programId: 'HA', caseId: 'HA-001', days: 5 });
    await until(() => pushes.at(-1) === 5);

    expect(pushes[0]).toBeNull();
  });

  it('hears an alert fire past the default 7-day rule, acknowledges it, and hears the acknowledgement', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const mon = clientFor(url);
    const heard: { state: string; acknowledged: boolean }[] = [];
    let onAlert = () => {};
    const until = (holds: () => boolean) =>
      new Promise<void>((resolve) => {
        onAlert = () => holds() && resolve();
        onAlert();
      });
    // The first dashboard push says the socket is subscribed, so no transition can be missed.
    const ready = new Promise<void>((resolve) =>
      onTestFinished(mon.subscribeDashboard({ programId: 'HA' }, { next: () => resolve() })),
    );
    onTestFinished(
      mon.subscribeAlerts(
        { programId: 'HA' },
        {
          next: (alert) => {
            heard.push({ state: alert.state, acknowledged: alert.acknowledgedAt !== null });
            onAlert();
          },
        },
      ),
    );
    await ready;

    await mon.recordResolutionTime({ programId: 'HA', caseId: 'HA-009', days: 12 });
    await until(() => heard.some((a) => a.state === 'FIRING'));
    const [open] = (await mon.getDashboard({ programId: 'HA' })).activeAlerts;
    expect(open).toMatchObject({ state: 'FIRING', value: 12, threshold: 7, rule: { kpi: 'AVG_RESOLUTION_TIME' } });

    const acknowledged = await mon.acknowledgeAlert(open.id);
    await until(() => heard.some((a) => a.acknowledged));

    expect(acknowledged.acknowledgedAt).not.toBeNull();
  });

  it('reads the KPI registry and its own key; an INTEGRATION key may do neither', async () => {
    const { t, url } = await runningApp();
    await t.program('HA');
    const viewer = clientFor(url, await t.key('VIEWER', ['HA']));
    const integration = clientFor(url, await t.key('INTEGRATION'));

    const kpis = await viewer.kpis();
    expect(kpis.map((k) => k.key)).toEqual([
      'AVG_RESOLUTION_TIME',
      'MEDIAN_RESOLUTION_TIME',
      'P90_RESOLUTION_TIME',
      'AVG_SATISFACTION',
      'CSAT',
      'TOTAL_CONFLICTS',
      'CONFLICT_RATE',
      'WITHIN_STANDARD',
    ]);
    expect(kpis[0]).toEqual({
      key: 'AVG_RESOLUTION_TIME',
      field: 'avgResolutionTime',
      label: 'Average resolution time',
      unit: 'DAYS',
      better: 'LOWER',
      interval: 'MEAN',
    });
    expect(kpis.find((k) => k.key === 'CSAT')).toMatchObject({
      unit: 'PERCENT',
      better: 'HIGHER',
      interval: 'PROPORTION',
    });
    expect(kpis.find((k) => k.key === 'TOTAL_CONFLICTS')?.interval).toBeNull();
    expect(await viewer.me()).toMatchObject({ role: 'VIEWER', programIds: ['HA'] });
    await expect(integration.kpis()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(integration.me()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('creates a program with dimensions, records attributes as an object or a list, and reads filters and breakdowns back', async () => {
    const { url } = await runningApp();
    const mon = clientFor(url);
    const program = await mon.createProgram({
      id: 'HA',
      name: 'Housing',
      dimensions: [{ key: 'office', label: 'Office' }],
    });
    expect(program.dimensions).toEqual([{ key: 'office', label: 'Office', maxValues: 1000, values: [] }]);
    const added = await mon.addDimension('HA', { key: 'channel', label: 'Channel', maxValues: 5 });
    expect(added.dimensions.map((d) => d.key)).toEqual(['office', 'channel']);

    const one = await mon.recordResolutionTime({
      programId: 'HA',
      caseId: 'C-1',
      days: 2,
      attributes: { office: 'North', channel: 'web' },
    });
    expect(one.event.attributes).toEqual([
      { key: 'office', value: 'North' },
      { key: 'channel', value: 'web' },
    ]);
    await mon.recordSatisfaction({
      programId: 'HA',
      caseId: 'C-1',
      score: 5,
      attributes: [{ key: 'office', value: 'North' }],
    });
    await mon.recordEvents([
      {
        kind: 'RESOLUTION_TIME',
        programId: 'HA',
        caseId: 'C-2',
        value: 10,
        attributes: { office: 'South', channel: 'mail' },
      },
      {
        kind: 'RESOLUTION_TIME',
        programId: 'HA',
        caseId: 'C-3',
        value: 4,
        attributes: { office: 'South', channel: 'web' },
      },
      { kind: 'RESOLUTION_TIME', programId: 'HA', caseId: 'C-4', value: 6 },
    ]);

    const web = await mon.getDashboard({ programId: 'HA', filter: { channel: 'web' } });
    expect(web).toMatchObject({
      resolvedCases: 2,
      avgResolutionTime: 3,
      filter: [{ key: 'channel', values: ['web'] }],
    });
    const both = await mon.getDashboard({
      programId: 'HA',
      filter: [
        { key: 'office', values: ['North', 'South'] },
        { key: 'channel', values: ['web'] },
      ],
    });
    expect(both.resolvedCases).toBe(2);

    // A breakdown's cost counts rows × buckets: a bounded range keeps 50 rows of series affordable.
    const day = { from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 3_600_000) };
    const byOffice = await mon.getBreakdown({ programId: 'HA', ...day, by: 'office', orderBy: 'AVG_RESOLUTION_TIME' });
    expect(byOffice.breakdown.map((r) => [r.value, r.resolvedCases, r.avgResolutionTime])).toEqual([
      ['South', 2, 7],
      [null, 1, 6],
      ['North', 1, 2],
    ]);
    expect(byOffice.breakdown[0].series?.length).toBeGreaterThan(0);
    const withoutSeries = await mon.getBreakdown({
      ...day,
      programId: 'HA',
      by: 'office',
      series: false,
      filter: { channel: 'web' },
    });
    expect(withoutSeries.breakdown.map((r) => r.value).sort()).toEqual(['North', 'South']);
    expect(withoutSeries.breakdown[0].series).toBeUndefined();
    expect((await mon.programs())[0].dimensions.find((d) => d.key === 'office')?.values).toEqual(['North', 'South']);
  });

  it('pushes a filtered breakdown at once, then again after a record in its scope', async () => {
    const { url } = await runningApp();
    const mon = clientFor(url);
    await mon.createProgram({
      id: 'HA',
      name: 'Housing',
      dimensions: [
        { key: 'office', label: 'Office' },
        { key: 'channel', label: 'Channel' },
      ],
    });
    const pushes: { value: string | null; resolvedCases: number }[][] = [];
    let onPush = () => {};
    const until = (holds: () => boolean) =>
      new Promise<void>((resolve) => {
        onPush = () => holds() && resolve();
        onPush();
      });
    onTestFinished(
      mon.subscribeBreakdown(
        {
          programId: 'HA',
          from: new Date(Date.now() - 86_400_000),
          to: new Date(Date.now() + 3_600_000),
          by: 'office',
          filter: { channel: 'web' },
        },
        {
          next: (dashboard) => {
            pushes.push(dashboard.breakdown.map((r) => ({ value: r.value, resolvedCases: r.resolvedCases })));
            onPush();
          },
        },
      ),
    );

    await until(() => pushes.length === 1);
    await mon.recordResolutionTime({
      programId: 'HA',
      caseId: 'C-1',
      days: 3,
      attributes: { office: 'North', channel: 'web' },
    });
    await until(() => pushes.at(-1)?.[0]?.resolvedCases === 1);

    expect(pushes[0]).toEqual([]);
    expect(pushes.at(-1)).toEqual([{ value: 'North', resolvedCases: 1 }]);
  });

  it('reports a refused key on the live connection as UNAUTHENTICATED', async () => {
    const { url } = await runningApp();
    const mon = clientFor(url, 'not-a-key');

    const failure = await new Promise<MonitoringError>((resolve) =>
      mon.subscribeDashboard({}, { next: () => {}, error: resolve }),
    );

    expect(failure.code).toBe('UNAUTHENTICATED');
  });
});

describe('the live socket reconnects', () => {
  it('after 0.25 s plus full jitter over a window doubling from 0.5 s to 10 s', () => {
    expect([0, 1, 2, 5, 30].map((retries) => reconnectDelay(retries, () => 0))).toEqual([250, 250, 250, 250, 250]);
    expect([0, 1, 2, 5, 30].map((retries) => reconnectDelay(retries, () => 0.999_999))).toEqual([
      749, 1249, 2249, 10249, 10249,
    ]);
    // Spread out, not in step: 1,000 pages' first retries land all over their window.
    const first = Array.from({ length: 1_000 }, () => reconnectDelay(0));
    expect(Math.min(...first)).toBeLessThan(300);
    expect(Math.max(...first)).toBeGreaterThan(700);
    expect(new Set(first).size).toBeGreaterThan(400);
  });
});
