/**
 * Tens of thousands of rows per test (1,000,000 in bench/import.ts): loaded machines get 2 minutes.
 *
 * POST /import/events over a real socket: CSV and NDJSON bodies, their bad rows with their lines,
 * idempotency across posts, dryRun and atomic, a body cut off mid-row, and imported events in
 * dashboards, live updates and alerts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CHUNK } from '../src/exports/import-events.js';
import { ADMIN_KEY, iso, testApp, type TestApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';
import {
  AlertChangedDocument,
  CreateProgramWithDimensionsDocument,
  DashboardDocument,
  LiveDashboardDocument,
} from './generated/operations.js';

interface Report {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; field: string | null; message: string }[];
}

const HEADER = 'kind,programId,caseId,value,reason,occurredAt,idempotencyKey';
const DAY = 86_400_000;

async function started(): Promise<TestApp & { url: string }> {
  const t = await testApp();
  const { url } = await t.app.start();
  return Object.assign(t, { url: url.replace(/\/graphql$/, '') });
}

async function post(
  t: { url: string },
  body: string,
  { type = 'text/csv', key = ADMIN_KEY, query = '' }: { type?: string; key?: string | null; query?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': type };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${t.url}/import/events${query}`, { method: 'POST', headers, body });
  return {
    status: response.status,
    body: (await response.json()) as Report & { error?: { code: string; message: string } },
  };
}

async function stored(t: TestApp, programId = 'A'): Promise<number> {
  const data = await t.ok(DashboardDocument, { programId });
  return data.dashboard.resolvedCases + data.dashboard.satisfactionResponses + data.dashboard.totalConflicts;
}

/** `n` resolution-time rows of program A, one day apart going back from `end`. */
function csvOf(n: number, end = Date.UTC(2026, 10, 1)): string {
  const rows = [HEADER];
  for (let i = 0; i < n; i++) rows.push(`RESOLUTION_TIME,A,case-${i},${(i % 50) + 0.5},,${iso(end - i * 60_000)},`);
  return `${rows.join('\n')}\n`;
}

describe('POST /import/events (CSV)', { timeout: 120_000 }, () => {
  it('takes a BOM, CRLF line ends and a quoted newline inside a field, and counts physical lines', async () => {
    const t = await started();
    await t.program('A');
    const body = [
      `\uFEFF${HEADER}`,
      'RESOLUTION_TIME,A,c1,3.5,,2026-11-01T10:00:00Z,',
      'CONFLICT,A,c2,,"two\r\nlines, and a comma",2026-11-01T11:00:00Z,',
      'SATISFACTION,A,c3,9,,2026-11-01T12:00:00Z,',
      '',
      'SATISFACTION,A,c4,4,,2026-11-01T12:00:00.000Z,',
    ].join('\r\n');
    const { status, body: report } = await post(t, body);
    expect(status).toBe(200);
    // Line 1 header, 2 c1, 3-4 c2 (its quoted newline), 5 c3, 6 empty, 7 c4.
    expect(report).toEqual({
      accepted: 3,
      duplicates: 0,
      rejected: 1,
      errors: [{ line: 5, field: 'value', message: 'value must be between 1 and 5' }],
    });
    const dashboard = (await t.ok(DashboardDocument, { programId: 'A' })).dashboard;
    expect(dashboard).toMatchObject({
      resolvedCases: 1,
      totalConflicts: 1,
      satisfactionResponses: 1,
      avgSatisfaction: 4,
    });
  });

  it('refuses a bad header or an unknown column (400) and stores nothing', async () => {
    const t = await started();
    await t.program('A');
    const missing = await post(t, 'kind,caseId,value\nRESOLUTION_TIME,c1,2\n');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: 'BAD_USER_INPUT', message: 'the header has no "programId" column' });
    const unknown = await post(t, `${HEADER},colour\nRESOLUTION_TIME,A,c1,2,,,,red\n`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/^column 8 "colour" is not an import column/);
    const twice = await post(t, 'kind,programId,caseId,caseId\n');
    expect(twice.status).toBe(400);
    expect(twice.body.error?.message).toBe('column "caseId" is given more than once');
    expect(await stored(t)).toBe(0);
  });

  it('rejects a row with too many or too few fields, a bad kind or number, and stores the rest', async () => {
    const t = await started();
    await t.program('A');
    const body = [
      HEADER,
      'RESOLUTION_TIME,A,c1,2,,,',
      'RESOLUTION_TIME,A,c2,2,,,,extra',
      'RESOLUTION_TIME,A,c3',
      'RESOLVED,A,c4,2,,,',
      'RESOLUTION_TIME,A,c5,two,,,',
      'RESOLUTION_TIME,A,c6,2,,yesterday,',
      'RESOLUTION_TIME,A,c7,2,,,',
    ].join('\n');
    const { body: report } = await post(t, body);
    expect(report.accepted).toBe(2);
    expect(report.rejected).toBe(5);
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([
      [3, null],
      [4, null],
      [5, 'kind'],
      [6, 'value'],
      [7, 'occurredAt'],
    ]);
    expect(report.errors[0].message).toBe('the row has 8 fields, the header 7');
    expect(await stored(t)).toBe(2);
  });

  it('adds nothing when the same file is posted again: derived keys make every row a duplicate', async () => {
    const t = await started();
    await t.program('A');
    const body = csvOf(12_345);
    expect((await post(t, body)).body).toEqual({ accepted: 12_345, duplicates: 0, rejected: 0, errors: [] });
    expect((await post(t, body)).body).toEqual({ accepted: 0, duplicates: 12_345, rejected: 0, errors: [] });
    // The same events written another way (another column order, other spellings of the same values).
    const again = 'occurredAt,value,caseId,programId,kind\n2026-11-01T00:00Z,0.50,case-0,A,RESOLUTION_TIME\n';
    expect((await post(t, again)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await stored(t)).toBe(12_345);
  });

  it('reports a CONFLICT and a dimension past maxValues on their own lines, and stores the other rows', async () => {
    const t = await started();
    await t.ok(CreateProgramWithDimensionsDocument, {
      input: { id: 'A', name: 'A', timezone: 'UTC', dimensions: [{ key: 'office', label: 'Office', maxValues: 2 }] },
    });
    const rows = [`${HEADER},attr.office`];
    for (let i = 0; i < 2 * CHUNK; i++) rows.push(`RESOLUTION_TIME,A,c${i},1,,,k${i},${i % 2 ? 'North' : 'South'}`);
    rows.push('RESOLUTION_TIME,A,x1,1,,,k5,North'); // k5 was stored with c5: another payload
    rows.push('RESOLUTION_TIME,A,x2,1,,,,East'); // a third office
    rows.push('RESOLUTION_TIME,A,x3,1,,,,West');
    rows.push('RESOLUTION_TIME,A,x4,1,,,,');
    rows.push('RESOLUTION_TIME,A,x5,1,,,,nowhere\u0007');
    const { body: report } = await post(t, rows.join('\n'));
    expect(report.accepted).toBe(2 * CHUNK + 1);
    expect(report.rejected).toBe(4);
    const first = 2 * CHUNK + 2;
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([
      [first, 'idempotencyKey'],
      [first + 1, 'attributes[0].value'],
      [first + 2, 'attributes[0].value'],
      [first + 4, 'attributes[0].value'],
    ]);
    expect(report.errors[1].message).toMatch(/past its limit of 2 values \(maxValues\)/);
    expect(await stored(t)).toBe(2 * CHUNK + 1);
  });
});

describe('POST /import/events (NDJSON)', () => {
  it('takes one EventInput per line and reports a line that is not JSON', async () => {
    const t = await started();
    await t.program('A');
    const lines = [
      JSON.stringify({ kind: 'RESOLUTION_TIME', programId: 'A', caseId: 'c1', value: 2 }),
      '{"kind": "SATISFACTION", "programId": "A", "caseId": "c2", "value": 5',
      '',
      JSON.stringify({ kind: 'CONFLICT', programId: 'A', caseId: 'c3', reason: 'x', colour: 'red' }),
      JSON.stringify({ kind: 'CONFLICT', programId: 'A', caseId: 'c4', occurredAt: '2026-11-01T00:00:00Z' }),
    ];
    const { status, body: report } = await post(t, `${lines.join('\r\n')}`, { type: 'application/x-ndjson' });
    expect(status).toBe(200);
    expect(report.accepted).toBe(2);
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([
      [2, null],
      [4, 'colour'],
    ]);
    expect(report.errors[0].message).toMatch(/^the line is not JSON/);
    expect(await stored(t)).toBe(2);
  });
});

describe('dryRun and atomic', { timeout: 120_000 }, () => {
  it('dryRun validates and counts exactly as an import would, and stores nothing', async () => {
    const t = await started();
    await t.program('A');
    const body = `${csvOf(3_000)}RESOLUTION_TIME,A,bad,-1,,,\n`;
    await post(t, csvOf(1_000));
    const { body: report } = await post(t, body, { query: '?dryRun=true' });
    expect(report).toMatchObject({ accepted: 2_000, duplicates: 1_000, rejected: 1 });
    expect(report.errors).toEqual([{ line: 3_002, field: 'value', message: 'value must be between 0 and 36500' }]);
    expect(await stored(t)).toBe(1_000);
  });

  it('atomic stores nothing when one row among many is invalid, and everything when none is', async () => {
    const t = await started();
    await t.program('A');
    const n = 20_000;
    const lines = csvOf(n).split('\n');
    lines[13_000] = 'RESOLUTION_TIME,A,bad,1,,2999-01-01T00:00:00Z,';
    const { body: refused } = await post(t, lines.join('\n'), { query: '?atomic=true' });
    expect(refused).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: 1,
      errors: [{ line: 13_001, field: 'occurredAt', message: 'occurredAt must be at most 5 minutes in the future' }],
    });
    expect(await stored(t)).toBe(0);
    const { body: taken } = await post(t, csvOf(n), { query: '?atomic=true' });
    expect(taken).toEqual({ accepted: n, duplicates: 0, rejected: 0, errors: [] });
    expect(await stored(t)).toBe(n);
  });

  it('atomic stores nothing when a row fails inside the transaction (a CONFLICT found while writing)', async () => {
    const t = await started();
    await t.program('A');
    const rows = [HEADER];
    for (let i = 0; i < 3 * CHUNK; i++) rows.push(`CONFLICT,A,c${i},,,,k${i}`);
    rows.push('CONFLICT,A,other,,,,k1');
    const { body: report } = await post(t, rows.join('\n'), { query: '?atomic=true' });
    expect(report).toMatchObject({ accepted: 0, duplicates: 0, rejected: 1 });
    expect(report.errors[0]).toMatchObject({ line: 3 * CHUNK + 2, field: 'idempotencyKey' });
    expect(await stored(t)).toBe(0);
    // The dimension values and rollups of the rolled-back transaction left nothing behind either.
    expect((await post(t, rows.slice(0, -1).join('\n'))).body).toMatchObject({ accepted: 3 * CHUNK });
    expect(await stored(t)).toBe(3 * CHUNK);
  });
});

describe('a body cut off mid-row', { timeout: 120_000 }, () => {
  it('keeps every committed chunk, stores no half row, and a re-post reports the committed rows as duplicates', async () => {
    const t = await started();
    await t.program('A');
    const total = 4 * CHUNK;
    const body = csvOf(total);
    const url = new URL(`${t.url}/import/events`);
    const serverSide = new Promise<IncomingMessage>((resolve) => t.app.server.once('request', resolve));
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${ADMIN_KEY}`, 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => {});
    // Two and a half chunks, ending inside a row.
    const cut = body.indexOf('\n', body.length / 2) + 20;
    req.write(body.slice(0, cut));
    await expect.poll(() => stored(t), { timeout: 30_000 }).toBeGreaterThanOrEqual(CHUNK);
    const received = await serverSide;
    const gone = new Promise((resolve) => received.once('close', resolve));
    req.destroy();
    await gone;
    // The handler hears the cut on its next read; whatever it had handed over commits, then the path is idle.
    await new Promise((resolve) => setImmediate(resolve));
    await t.app.services.recorder.idle();
    const kept = await stored(t);
    expect(kept % CHUNK).toBe(0);
    expect(kept).toBeGreaterThanOrEqual(CHUNK);
    const { body: report } = await post(t, body);
    expect(report).toEqual({ accepted: total - kept, duplicates: kept, rejected: 0, errors: [] });
    expect(await stored(t)).toBe(total);
  });
});

describe('imported events', () => {
  it('reach live dashboards and alerts like recorded ones', async () => {
    const now = Date.now();
    const t = await started();
    await t.program('A');
    const ws = connect(`${t.url.replace(/^http/, 'ws')}/graphql`, ADMIN_KEY);
    const live = ws.subscribe(LiveDashboardDocument, { programId: 'A' });
    const alerts = ws.subscribe(AlertChangedDocument, { programId: 'A' });
    expect((await live.next()).data?.dashboardUpdated.resolvedCases).toBe(0);
    const rows = [HEADER];
    for (let i = 0; i < 20; i++) rows.push(`RESOLUTION_TIME,A,c${i},10,,${iso(now - DAY - i * 60_000)},`);
    expect((await post(t, rows.join('\n'))).body.accepted).toBe(20);
    const updated = await live.until((d) => d.dashboardUpdated.resolvedCases === 20);
    expect(updated.dashboardUpdated.avgResolutionTime).toBe(10);
    // The default rule: average resolution time over 30 days above 7 days.
    const fired = await alerts.until((d) => d.alertChanged.state === 'FIRING');
    expect(fired.alertChanged.programId).toBe('A');
  });
});

describe('who may import', () => {
  it('refuses a missing key, a viewer, a bad content type, and another program, as JSON errors', async () => {
    const t = await started();
    await t.program('A');
    await t.program('B');
    const viewer = await t.key('VIEWER');
    const integrationA = await t.key('INTEGRATION', ['A']);
    const body = `${HEADER}\nRESOLUTION_TIME,B,c1,1,,,\nRESOLUTION_TIME,A,c2,1,,,\n`;

    const none = await post(t, body, { key: null });
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('UNAUTHENTICATED');
    const read = await post(t, body, { key: viewer });
    expect(read.status).toBe(403);
    expect(read.body.error?.code).toBe('FORBIDDEN');
    const json = await post(t, body, { type: 'application/json' });
    expect(json.status).toBe(415);
    expect((await post(t, body, { query: '?atomic=yes' })).status).toBe(400);

    const other = await post(t, body, { key: integrationA, query: '?programId=B' });
    expect(other.status).toBe(403);
    expect(other.body.error).toEqual({
      code: 'FORBIDDEN',
      message: 'this key may not access the program named by programId',
    });
    const unknown = await post(t, body, { key: integrationA, query: '?programId=Z' });
    expect(unknown.status).toBe(403);
    const missing = await post(t, body, { query: '?programId=Z' });
    expect(missing.status).toBe(404);

    // Without programId, a row of another program is refused alone; the key's own rows are stored.
    const { body: report } = await post(t, body, { key: integrationA });
    expect(report).toMatchObject({ accepted: 1, rejected: 1 });
    expect(report.errors).toEqual([
      { line: 2, field: 'programId', message: 'this key may not access the program this row names' },
    ]);
    expect(await stored(t, 'B')).toBe(0);
    expect(await stored(t, 'A')).toBe(1);
  });
});

describe('npm run import', { timeout: 120_000 }, () => {
  it('streams a file with progress on stderr, prints the report, and exits 1 when rows were rejected', async () => {
    const t = await started();
    await t.program('A');
    const dir = mkdtempSync(path.join(tmpdir(), 'kpi-import-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'events.csv');
    writeFileSync(file, `${csvOf(2 * CHUNK)}RESOLUTION_TIME,A,bad,-1,,,\n`);
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import-events.ts', ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      });
    const first = await run([file, '--url', t.url, '--key', ADMIN_KEY]);
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ accepted: 2 * CHUNK, duplicates: 0, rejected: 1 });
    expect(first.stderr).toMatch(/^[\d,]+ rows, [\d,]+ rows\/s, [01] errors so far$/m);
    expect(first.stderr).toMatch(
      new RegExp(`^${(2 * CHUNK + 1).toLocaleString('en-US')} rows in [\\d.]+ s, [\\d,]+ rows/s, 1 errors$`, 'm'),
    );
    const again = await run([file, '--url', `${t.url}/graphql`, '--key', ADMIN_KEY, '--format', 'csv']);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicates: 2 * CHUNK, rejected: 1 });
    // A large file refused at the headers: the command says why, and the file is never sent (it waits
    // for 100 Continue), where it used to meet the socket the server had closed and fail with EPIPE.
    const large = path.join(dir, 'large.csv');
    writeFileSync(large, csvOf(200_000));
    const received: number[] = [];
    t.app.server.on('connection', (socket) => socket.once('close', () => received.push(socket.bytesRead)));
    for (let i = 0; i < 3; i++) {
      const refused = await run([large, '--url', t.url, '--key', 'nope']);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(/^import refused \(401\): .*UNAUTHENTICATED/m);
    }
    await expect.poll(() => received.length).toBe(3);
    // Headers only, of a file of about 12 MB.
    for (const bytes of received) expect(bytes).toBeLessThan(4_096);
    expect((await run([file])).code).toBe(2);
    expect(await stored(t)).toBe(2 * CHUNK);
  });
});
