/**
 * The Python client (clients/python) with the machine's python3 against a real server: the brief's
 * example prints the right dashboard, and an event sent to a server that is down at first, that
 * answers 503 then 200, or whose first answer is lost, is counted once.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DashboardDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';

const PYTHON = process.env.PYTHON ?? 'python3';
const version = spawnSync(PYTHON, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
const hasPython = !version.error && version.status === 0;
if (!hasPython) console.warn(`${PYTHON} is not on this machine: the Python client's tests are skipped`);
const CLIENT = path.resolve('clients/python');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Python script with the client on PYTHONPATH; `onStderr` hears each line as it comes. */
function python(
  args: string[],
  env: Record<string, string>,
  onStderr: (line: string) => void = () => {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      env: { PATH: process.env.PATH ?? '', PYTHONPATH: CLIENT, PYTHONUNBUFFERED: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
      for (const line of String(c).split('\n')) if (line) onStderr(line);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function serverWithProgram() {
  const t = await testApp();
  await t.program('HA');
  const { url } = await t.app.start();
  const resolved = async () => (await t.ok(DashboardDocument, { programId: 'HA' })).dashboard.resolvedCases;
  return { t, url, resolved };
}

/** One record with the client's retries tuned short, logging each retry to stderr. */
const RECORD_ONCE = `
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from monitoring import MonitoringModule
mon = MonitoringModule(retries=30, base_delay=0.05, max_delay=0.3, timeout=5)
answer = mon.record_resolution_time(case_id="HA-001", days=5)
print("duplicate" if answer["duplicate"] else "stored")
`;

/** A front in front of the app whose behaviour a test chooses per request; it sees every body. */
async function front(
  target: string,
  handle: (n: number, req: IncomingMessage, body: string) => 'forward' | 'drop' | number,
) {
  const bodies: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    bodies.push(body);
    const action = handle(bodies.length, req, body);
    if (typeof action === 'number') {
      res.writeHead(action, { 'content-type': 'text/plain', 'retry-after': '0' }).end('try again later\n');
      return;
    }
    const answer = await fetch(target, { method: 'POST', headers: req.headers as Record<string, string>, body });
    const text = await answer.text();
    // The server stored it; the answer is lost on the way back.
    if (action === 'drop') return res.socket?.destroy();
    res
      .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
      .end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, bodies, server };
}

const keysOf = (bodies: string[]) => bodies.map((b) => JSON.parse(b).variables.input.idempotencyKey as string);

describe.skipIf(!hasPython)(`the Python client (${PYTHON} ${version.stdout?.trim()})`, () => {
  it("runs the brief's example_usage.py unchanged and prints the right dashboard", async () => {
    const { url } = await serverWithProgram();
    const run = await python([path.join(CLIENT, 'example_usage.py')], {
      KPI_URL: url,
      KPI_API_KEY: ADMIN_KEY,
      KPI_PROGRAM_ID: 'HA',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/'avg_resolution_time': 5(\.0)?[,}]/);
    expect(run.stdout).toMatch(/'avg_satisfaction': 4\.2[,}]/);
    expect(run.stdout).toMatch(/'total_conflicts': 1[,}]/);
  });

  it('raises a typed error carrying the GraphQL code, and stores nothing', async () => {
    const { url, resolved } = await serverWithProgram();
    const run = await python(
      [
        '-c',
        `
from monitoring import MonitoringModule, BadInputError, ForbiddenError, NotFoundError
mon = MonitoringModule()
try:
    mon.record_satisfaction(case_id="HA-001", score=9)
except BadInputError as e:
    print("bad", e.code, e.field, e.message)
try:
    mon.record_events([{"kind": "resolution_time", "case_id": "A", "value": 2}, {"kind": "resolution_time", "case_id": "B", "value": -1}])
except BadInputError as e:
    print("batch", e.code, e.field)
try:
    mon.get_dashboard(program_id="NOPE")
except NotFoundError as e:
    print("missing", e.code)
print(mon.record_events([{"kind": "conflict", "case_id": "C", "attributes": {}}]))
`,
      ],
      { KPI_URL: url, KPI_API_KEY: ADMIN_KEY, KPI_PROGRAM_ID: 'HA' },
    );
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^bad BAD_USER_INPUT score .*between 1 and 5/);
    expect(lines[1]).toMatch(/^batch BAD_USER_INPUT events\[1\]/);
    expect(lines[2]).toBe('missing NOT_FOUND');
    expect(lines[3]).toBe("{'accepted': 1, 'duplicates': 0}");
    expect(await resolved()).toBe(0);
  });

  it('counts an event once when the server is down at first', async () => {
    const { url, resolved } = await serverWithProgram();
    const proxy = await front(url, () => 'forward');
    const { port } = proxy.server.address() as AddressInfo;
    await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    // Down until the client has failed once; then up on the same port.
    let restored = false;
    const run = await python(
      ['-c', RECORD_ONCE],
      { KPI_URL: proxy.url, KPI_API_KEY: ADMIN_KEY, KPI_PROGRAM_ID: 'HA' },
      (line) => {
        if (!restored && line.includes('NETWORK')) {
          restored = true;
          proxy.server.listen(port, '127.0.0.1');
        }
      },
    );
    expect(restored).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('stored');
    expect(await resolved()).toBe(1);
  });

  it('counts an event once when the server answers 503, then 200', async () => {
    const { url, resolved } = await serverWithProgram();
    const proxy = await front(url, (n) => (n === 1 ? 503 : 'forward'));
    const run = await python(['-c', RECORD_ONCE], { KPI_URL: proxy.url, KPI_API_KEY: ADMIN_KEY, KPI_PROGRAM_ID: 'HA' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('stored');
    expect(run.stderr).toMatch(/HTTP_503/);
    expect(proxy.bodies).toHaveLength(2);
    expect(new Set(keysOf(proxy.bodies)).size).toBe(1);
    expect(await resolved()).toBe(1);
  });

  it('counts an event once when the first answer is lost after the server stored it', async () => {
    const { url, resolved } = await serverWithProgram();
    const proxy = await front(url, (n) => (n === 1 ? 'drop' : 'forward'));
    const run = await python(['-c', RECORD_ONCE], { KPI_URL: proxy.url, KPI_API_KEY: ADMIN_KEY, KPI_PROGRAM_ID: 'HA' });
    expect(run.code, run.stderr).toBe(0);
    // The retry carried the same idempotency key, so the server answered with the first event.
    expect(run.stdout.trim()).toBe('duplicate');
    expect(proxy.bodies).toHaveLength(2);
    expect(new Set(keysOf(proxy.bodies)).size).toBe(1);
    expect(await resolved()).toBe(1);
  });

  it('gives up on a server that stays down with NetworkError (code NETWORK)', async () => {
    const run = await python(
      [
        '-c',
        `
from monitoring import MonitoringModule, NetworkError
mon = MonitoringModule(retries=2, base_delay=0.01, max_delay=0.02)
try:
    mon.record_conflict(case_id="X")
except NetworkError as e:
    print(e.code)
`,
      ],
      { KPI_URL: 'http://127.0.0.1:9/graphql', KPI_API_KEY: ADMIN_KEY, KPI_PROGRAM_ID: 'HA' },
    );
    expect(run.stdout.trim()).toBe('NETWORK');
  });
});
