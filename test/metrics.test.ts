/** /metrics in Prometheus' text format (checked by a parser), who may read it, and the request id in answers and logs. */
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../src/app.js';
import { MonitoringClient } from '../src/client/index.js';
import { loadConfig } from '../src/config.js';
import {
  RecordResolutionTimeDocument,
  RecordSatisfactionDocument,
  RecordConflictDocument,
} from './generated/operations.js';
import { ADMIN_KEY, freshDatabaseUrl, testApp } from './helpers/app.js';

const METRICS_TOKEN = 'scrape-token-for-tests';

async function runningApp() {
  const t = await testApp({ env: { METRICS_TOKEN } });
  const { url } = await t.app.start();
  return { t, origin: new URL(url).origin, graphql: url };
}

async function scrapeText(origin: string, token = METRICS_TOKEN): Promise<string> {
  const response = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function scrape(origin: string): Promise<MetricFamily[]> {
  return parsePrometheusTextFormat(await scrapeText(origin));
}

const family = (families: MetricFamily[], name: string) => {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric family ${name}`);
  return found;
};
const sampleValue = (families: MetricFamily[], name: string, labels: Record<string, string> = {}) => {
  const sample = family(families, name).metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return sample?.value === undefined ? undefined : Number(sample.value);
};

describe('/metrics', () => {
  it("parses as Prometheus text and gauges each program's KPIs over the last 30 days", async () => {
    const { t, origin } = await runningApp();
    await t.program('HA');
    await t.program('EMPTY');
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-001', days: 5 } });
    await t.ok(RecordSatisfactionDocument, { input: { programId: 'HA', caseId: 'HA-001', score: 4.2 } });
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'HA-002' } });

    const families = await scrape(origin);

    expect(family(families, 'kpi_value').type).toBe('GAUGE');
    expect(sampleValue(families, 'kpi_value', { program: 'HA', kpi: 'AVG_RESOLUTION_TIME' })).toBe(5);
    expect(sampleValue(families, 'kpi_value', { program: 'HA', kpi: 'AVG_SATISFACTION' })).toBe(4.2);
    expect(sampleValue(families, 'kpi_value', { program: 'HA', kpi: 'TOTAL_CONFLICTS' })).toBe(1);
    expect(sampleValue(families, 'kpi_value', { program: 'HA', kpi: 'CONFLICT_RATE' })).toBe(100);
    // No data is no sample, never a 0 that a graph would draw.
    expect(sampleValue(families, 'kpi_value', { program: 'EMPTY', kpi: 'AVG_RESOLUTION_TIME' })).toBeUndefined();
    // Not even a count: a program that reported nothing has no conflicts sample either (README).
    expect(family(families, 'kpi_value').metrics.filter((m) => m.labels?.program === 'EMPTY')).toEqual([]);
    expect(family(families, 'kpi_events_recorded_total').type).toBe('COUNTER');
    expect(sampleValue(families, 'kpi_events_recorded_total')).toBe(3);
    expect(sampleValue(families, 'alert_delivery_queue')).toBe(0);
    expect(sampleValue(families, 'websocket_connections_open')).toBe(0);
    expect(sampleValue(families, 'overload_refusals_total', { bound: 'in_flight_requests' })).toBe(0);
    expect(sampleValue(families, 'overload_refusals_total', { bound: 'record_queue' })).toBe(0);
    expect(sampleValue(families, 'websocket_slow_readers_closed_total')).toBe(0);
    expect(family(families, 'process_resident_memory_bytes').type).toBe('GAUGE');
  });

  it('counts requests, their latency and GraphQL errors by code', async () => {
    const { origin, graphql } = await runningApp();
    const post = (query: string) =>
      fetch(graphql, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify({ query }),
      });
    await post('{ programs { id } }');
    await post('mutation { recordSatisfaction(input: {programId: "NOPE", caseId: "c", score: 9}) { duplicate } }');

    const text = await scrapeText(origin);
    const families = parsePrometheusTextFormat(text);

    expect(sampleValue(families, 'http_requests_total', { method: 'POST', route: '/graphql', status: '200' })).toBe(2);
    expect(family(families, 'http_request_duration_seconds').type).toBe('HISTOGRAM');
    // The parser folds a labelled histogram's series together, so its count is read from the text.
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/graphql"\} 2$/m);
    expect(sampleValue(families, 'graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBe(1);
  });

  it('counts open sockets and active subscriptions, and lets them go when the client leaves', async () => {
    const { t, origin, graphql } = await runningApp();
    await t.program('HA');
    const client = new MonitoringClient({ url: graphql, apiKey: ADMIN_KEY });
    onTestFinished(() => client.close());
    let pushed!: () => void;
    const first = new Promise<void>((resolve) => (pushed = resolve));
    const unsubscribe = client.subscribeDashboard({ programId: 'HA' }, { next: () => pushed() });
    await first;

    const families = await scrape(origin);
    expect(sampleValue(families, 'graphql_subscriptions_active')).toBe(1);
    expect(sampleValue(families, 'websocket_connections_open')).toBe(1);

    unsubscribe();
    // The server hears the client's Complete message in its own time: wait for the gauge to drop.
    await expect.poll(async () => sampleValue(await scrape(origin), 'graphql_subscriptions_active')).toBe(0);
  });

  it("passes promtool's rules (or, without promtool, the same naming rules on the parsed text)", async () => {
    const { t, origin } = await runningApp();
    await t.program('HA');
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'HA-002' } });
    const text = await scrapeText(origin);

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (!promtool.error) {
      // promtool prints one line per finding and exits 0 only when there is none.
      expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('');
      expect(promtool.status).toBe(0);
      return;
    }
    console.warn('promtool is not on this machine (Debian: apt-get install prometheus); checking the parsed text');
    // The rules promtool's lint applies to names, types and help.
    const families = parsePrometheusTextFormat(text);
    expect(families.length).toBeGreaterThan(10);
    for (const f of families) {
      expect(f.help, f.name).not.toBe('');
      if (f.type === 'COUNTER') expect(f.name, 'counters end in _total').toMatch(/_total$/);
      else expect(f.name, 'only counters end in _total').not.toMatch(/_total$/);
      expect(f.name, 'snake_case names').toMatch(/^[a-z_][a-z0-9_]*$/);
    }
  });

  it('is never open: it needs METRICS_TOKEN or an ADMIN key', async () => {
    const { t, origin } = await runningApp();
    const viewer = await t.key('VIEWER');
    const status = async (authorization?: string) =>
      (await fetch(`${origin}/metrics`, { headers: authorization ? { authorization } : {} })).status;

    expect(await status()).toBe(401);
    expect(await status('Bearer wrong')).toBe(401);
    expect(await status(`Bearer ${viewer}`)).toBe(401);
    expect(await status(`Bearer ${ADMIN_KEY}`)).toBe(200);
    expect(await status(`Bearer ${METRICS_TOKEN}`)).toBe(200);
  });
});

describe('request ids and JSON logs', () => {
  it("echoes the caller's x-request-id, makes one when absent, and logs each request as JSON with it", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const config = loadConfig({ DATABASE_URL: freshDatabaseUrl(), ADMIN_API_KEY: ADMIN_KEY, PORT: '0' });
    const app = await buildApp(config, { logger: pino({ level: 'info' }, sink) });
    onTestFinished(() => app.stop());
    const { url } = await app.start();
    const ask = (headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}`, ...headers },
        body: '{"query":"{ programs { id } }"}',
      });

    const given = await ask({ 'x-request-id': 'trace-42' });
    const made = await ask({});
    const forged = await ask({ 'x-request-id': 'bad id", "level": 60, "x": "' });

    expect(given.headers.get('x-request-id')).toBe('trace-42');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setImmediate(resolve));
    const requestLines = lines.filter((l) => l.msg === 'request');
    expect(requestLines.map((l) => l.reqId)).toEqual([
      'trace-42',
      made.headers.get('x-request-id'),
      forged.headers.get('x-request-id'),
    ]);
    expect(requestLines[0]).toMatchObject({ method: 'POST', path: '/graphql', status: 200, level: 30 });
    expect(JSON.stringify(lines)).not.toContain(ADMIN_KEY);
  });
});
