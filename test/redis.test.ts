/**
 * Redis between instances, and what happens while it is away: writes go on and stay durable,
 * and live subscribers are brought up to date with a fresh snapshot once it is back, never left
 * silently stale. Redis is cut by a TCP proxy in front of it (test/helpers/tcp-proxy.ts).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AlertChangedDocument,
  CreateAlertRuleDocument,
  DashboardDocument,
  LiveDashboardDocument,
  RecordResolutionTimeDocument,
} from './generated/operations.js';
import { freshDatabaseUrl, testApp, testDialect, type TestApp } from './helpers/app.js';
import { subscribeSse } from './helpers/sse.js';
import { tcpProxy } from './helpers/tcp-proxy.js';

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.warn('Redis tests skipped: TEST_REDIS_URL is not set');
const redis = redisUrl ? new URL(redisUrl) : null;

/** A port where nothing listens: Redis unreachable from the start. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` (the Redis link's state is a condition, not an event the test can await). */
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const prefix = () => `test-${randomBytes(6).toString('hex')}:`;
const redisReady = (t: TestApp) => t.app.services.pubsub.redisReady();

describe.skipIf(!redis)('Redis between instances', () => {
  it('records while Redis is unreachable: the write answers after its commit, and this instance’s subscribers stay live', async () => {
    const t = await testApp({ env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, REDIS_PREFIX: prefix() } });
    expect(redisReady(t)).toBe(false);
    await t.program('HA');
    const viewer = await t.key('VIEWER', ['HA']);
    const live = await subscribeSse(t.app, LiveDashboardDocument, { programId: 'HA' }, viewer);
    await live.until((r) => r.data?.dashboardUpdated.resolvedCases === 0);

    const recorded = await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'C-1', days: 3 } });
    expect(recorded.recordResolutionTime.duplicate).toBe(false);
    expect((await t.ok(DashboardDocument, { programId: 'HA' })).dashboard.resolvedCases).toBe(1);
    await live.until((r) => r.data?.dashboardUpdated.resolvedCases === 1);
    expect(redisReady(t)).toBe(false);
  });

  it.skipIf(testDialect !== 'postgres')(
    'a subscriber whose Redis connection drops mid-stream is caught up once it returns, and so are the others',
    async () => {
      // Two instances on one database: A reaches Redis through a proxy the test cuts, B directly.
      const database = freshDatabaseUrl();
      const channels = prefix();
      const proxy = await tcpProxy({ host: redis!.hostname, port: Number(redis!.port || 6379) });
      const a = await testApp({
        env: { DATABASE_URL: database, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: channels },
      });
      const b = await testApp({ env: { DATABASE_URL: database, REDIS_URL: redisUrl!, REDIS_PREFIX: channels } });
      await a.program('P1');
      await a.program('P2');
      await a.ok(CreateAlertRuleDocument, {
        input: {
          name: 'P1 resolutions over 7 days',
          programId: 'P1',
          kpi: 'AVG_RESOLUTION_TIME',
          comparator: 'GT',
          threshold: 7,
          windowDays: 7,
        },
      });
      const viewer = await a.key('VIEWER', ['P1', 'P2']);
      const p1OnA = await subscribeSse(a.app, LiveDashboardDocument, { programId: 'P1' }, viewer);
      const alertsOnA = await subscribeSse(a.app, AlertChangedDocument, { programId: 'P1' }, viewer);
      const p2OnB = await subscribeSse(b.app, LiveDashboardDocument, { programId: 'P2' }, viewer);
      await eventually(() => redisReady(a) === true && redisReady(b) === true, 'both instances connected to Redis');
      // The path works both ways before the cut.
      await b.ok(RecordResolutionTimeDocument, { input: { programId: 'P1', caseId: 'before', days: 1 } });
      await p1OnA.until((r) => r.data?.dashboardUpdated.resolvedCases === 1);
      await a.ok(RecordResolutionTimeDocument, { input: { programId: 'P2', caseId: 'before', days: 1 } });
      await p2OnB.until((r) => r.data?.dashboardUpdated.resolvedCases === 1);

      await proxy.cut();
      await eventually(() => redisReady(a) === false, 'A sees Redis gone');
      // B's write reaches Redis, but not A; A's write is durable, but its notice reaches nobody else.
      await b.ok(RecordResolutionTimeDocument, { input: { programId: 'P1', caseId: 'during', days: 30 } });
      await a.ok(RecordResolutionTimeDocument, { input: { programId: 'P2', caseId: 'during', days: 1 } });
      expect((await b.ok(DashboardDocument, { programId: 'P2' })).dashboard.resolvedCases).toBe(2);
      // B judges its own record now (P1's average goes over 7): the alert fires while A is cut off.
      await b.app.services.alerts.engine.judge(['P1']);
      // Nothing carries either change to the other instance's subscribers while Redis is cut.
      expect(p1OnA.received.at(-1)?.data?.dashboardUpdated.resolvedCases).toBe(1);
      expect(p2OnB.received.at(-1)?.data?.dashboardUpdated.resolvedCases).toBe(1);

      await proxy.restore();
      // A's subscribe connection returns: A recomputes its scopes from the database.
      await p1OnA.until((r) => r.data?.dashboardUpdated.resolvedCases === 2);
      // A replays the alerts that moved while it was cut off.
      const fired = await alertsOnA.until((r) => r.data?.alertChanged.state === 'FIRING');
      expect(fired.data?.alertChanged).toMatchObject({ programId: 'P1', value: 15.5 });
      // A's publish connection returns: it asks the others to resynchronise, and B's subscriber catches up.
      await p2OnB.until((r) => r.data?.dashboardUpdated.resolvedCases === 2);
      expect(redisReady(a)).toBe(true);
    },
  );
});
