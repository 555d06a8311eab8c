/**
 * Several instances serving as one: two server processes (`src/main.ts`, configured by
 * environment as in a deployment) on one PostgreSQL schema and one Redis. A record taken by one
 * reaches live subscribers of the other; an alert both judge fires once and is delivered once;
 * rollups written by both at once stay exact; a write transaction held open on one does not hold
 * up the other's writes to other programs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { App } from '../src/app.js';
import { programLockKey } from '../src/db/database.js';
import {
  AlertChangedDocument,
  AlertsDocument,
  AlertWithHistoryDocument,
  CreateAlertRuleDocument,
  CreateApiKeyDocument,
  CreateProgramDocument,
  CreateWebhookDocument,
  DashboardDocument,
  DashboardSeriesDocument,
  LiveDashboardDocument,
  RecordEventsDocument,
  RecordResolutionTimeDocument,
  RetractEventDocument,
  WebhookDeliveriesDocument,
  type EventInput,
} from './generated/operations.js';
import { ADMIN_KEY, freshDatabaseUrl, operationsOn, testDialect } from './helpers/app.js';
import { runDatabaseUrl } from './helpers/global-setup.js';
import { startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { receiver } from './helpers/webhook-receiver.js';
import { connect } from './helpers/ws.js';

const redisUrl = process.env.TEST_REDIS_URL;
// PostgreSQL comes from the postgres project of the suite (TEST_DATABASE_URL); once is enough.
const enabled = testDialect === 'postgres' && Boolean(redisUrl);
if (!enabled) {
  console.warn(
    testDialect === 'postgres'
      ? 'multi-instance tests skipped: TEST_REDIS_URL is not set'
      : 'multi-instance tests run in the postgres project only (they need TEST_DATABASE_URL and TEST_REDIS_URL)',
  );
}

/** Typed operations against a running process. */
function operationsAt(instance: ServerProcess) {
  return operationsOn({ fetch: (_url: string, init?: RequestInit) => fetch(instance.url, init) } as App);
}

describe.skipIf(!enabled)('two server processes on one PostgreSQL and one Redis', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = freshDatabaseUrl();
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl!,
      // Tests running at once share the Redis server: each suite has channels of its own.
      REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
      ADMIN_API_KEY: ADMIN_KEY,
      // Both instances judge rules often, so they race for every transition.
      ALERT_INTERVAL_MS: '100',
      ALERT_DEBOUNCE_MS: '20',
      LIVE_THROTTLE_MS: '50',
      // The webhook receiver listens on this host.
      WEBHOOK_ALLOW_LOOPBACK: 'true',
    };
    // Started together, as a deployment's instances are: both migrate the same fresh schema.
    // Generous: on a loaded machine, two processes compiling TypeScript at once may take a while to start.
    [a, b] = await Promise.all([startServerProcess(env, 90_000), startServerProcess(env, 90_000)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a record taken by one instance reaches a live subscriber of the other within a second', async () => {
    const [onA, onB] = [operationsAt(a), operationsAt(b)];
    await onA.ok(CreateProgramDocument, { input: { id: 'LIVE', name: 'Live', timezone: 'UTC' } });
    const viewer = (
      await onA.ok(CreateApiKeyDocument, { input: { name: 'viewer', role: 'VIEWER', programIds: ['LIVE'] } })
    ).createApiKey.key;
    const fromA = connect(a.wsUrl, viewer).subscribe(LiveDashboardDocument, { programId: 'LIVE' });
    const fromB = connect(b.wsUrl, viewer).subscribe(LiveDashboardDocument, { programId: 'LIVE' });
    await fromA.until((d) => d.dashboardUpdated.resolvedCases === 0);
    await fromB.until((d) => d.dashboardUpdated.resolvedCases === 0);

    // The first crossing may wait for the instances' Redis connections; after it, each one counts.
    await onB.ok(RecordResolutionTimeDocument, { input: { programId: 'LIVE', caseId: 'warm-up', days: 1 } });
    await fromA.until((d) => d.dashboardUpdated.resolvedCases === 1, 10_000);

    await onB.ok(RecordResolutionTimeDocument, { input: { programId: 'LIVE', caseId: 'b-to-a', days: 1 } });
    await fromA.until((d) => d.dashboardUpdated.resolvedCases === 2, 1_000);
    await onA.ok(RecordResolutionTimeDocument, { input: { programId: 'LIVE', caseId: 'a-to-b', days: 1 } });
    await fromB.until((d) => d.dashboardUpdated.resolvedCases === 3, 1_000);
  });

  it('an alert rule that both instances judge fires exactly once, and its webhook is delivered once', async () => {
    const [onA, onB] = [operationsAt(a), operationsAt(b)];
    await onA.ok(CreateProgramDocument, { input: { id: 'ALRT', name: 'Alerting', timezone: 'UTC' } });
    const rule = (
      await onA.ok(CreateAlertRuleDocument, {
        input: {
          name: 'ALRT resolutions over 7 days',
          programId: 'ALRT',
          kpi: 'AVG_RESOLUTION_TIME',
          comparator: 'GT',
          threshold: 7,
          windowDays: 7,
        },
      })
    ).createAlertRule;
    const hook = await receiver();
    const webhook = (
      await onB.ok(CreateWebhookDocument, {
        input: { url: hook.url, secret: 'a-long-enough-shared-secret', programId: 'ALRT' },
      })
    ).createWebhook;
    const onAlertsA = connect(a.wsUrl, ADMIN_KEY).subscribe(AlertChangedDocument, { programId: 'ALRT' });
    const onAlertsB = connect(b.wsUrl, ADMIN_KEY).subscribe(AlertChangedDocument, { programId: 'ALRT' });
    // Subscriptions are live once a record's alert-free change has crossed (nothing fires at 1 day).
    await onA.ok(RecordResolutionTimeDocument, { input: { programId: 'ALRT', caseId: 'calm', days: 1 } });

    // One record on B: B hears it at once, A through Redis; both judge, and keep judging every 100 ms.
    await onB.ok(RecordResolutionTimeDocument, { input: { programId: 'ALRT', caseId: 'slow', days: 20 } });
    const isOurFiring = (d: { alertChanged: { state: string; rule: { id: string } } }) =>
      d.alertChanged.state === 'FIRING' && d.alertChanged.rule.id === rule.id;
    const [firedA, firedB] = await Promise.all([
      onAlertsA.until(isOurFiring, 10_000),
      onAlertsB.until(isOurFiring, 10_000),
    ]);
    expect(firedA.alertChanged.id).toBe(firedB.alertChanged.id);
    await hook.until((r) => r.json.type === 'alert.firing' && r.json.alert.id === firedA.alertChanged.id);

    // Once delivered, the row is final; every judgement since (several by each instance) found the alert open.
    // (The default rule on every program may fire too: only this rule's alert is counted.)
    const alertId = firedA.alertChanged.id;
    const deliveries = async () =>
      (await onA.ok(WebhookDeliveriesDocument, { webhookId: webhook.id })).webhookDeliveries.filter(
        (d) => d.alertId === alertId,
      );
    await expect
      .poll(async () => (await deliveries()).every((d) => d.state === 'DELIVERED'), { timeout: 10_000 })
      .toBe(true);
    const [delivery] = await deliveries();
    expect(await deliveries()).toHaveLength(1);
    expect(delivery.attemptLog).toHaveLength(1);
    expect(hook.requests.filter((r) => r.json.type === 'alert.firing' && r.json.alert.id === alertId)).toHaveLength(1);

    const alerts = (await onB.ok(AlertsDocument, { programId: 'ALRT' })).alerts.filter(
      (alert) => alert.rule.id === rule.id,
    );
    expect(alerts).toHaveLength(1);
    const { alert } = await onB.ok(AlertWithHistoryDocument, { id: alerts[0].id });
    expect(alert?.history.filter((h) => h.state === 'FIRING')).toHaveLength(1);
    for (const stream of [onAlertsA, onAlertsB]) {
      expect(stream.received.filter((r) => r.data && isOurFiring(r.data))).toHaveLength(1);
    }
  });

  it('rollups stay exact when both instances write the same programs at the same time', async () => {
    const [onA, onB] = [operationsAt(a), operationsAt(b)];
    const programs = ['ROLL', 'ROLLNY'];
    await onA.ok(CreateProgramDocument, { input: { id: 'ROLL', name: 'Rollups UTC', timezone: 'UTC' } });
    await onA.ok(CreateProgramDocument, {
      input: { id: 'ROLLNY', name: 'Rollups New York', timezone: 'America/New_York' },
    });

    // 24 batches of 50 events over 2025, of both programs and every kind, half sent to each instance at once.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const start = Date.UTC(2025, 0, 1);
    const end = Date.UTC(2026, 0, 1);
    const batches: EventInput[][] = Array.from({ length: 24 }, (_, batch) =>
      Array.from({ length: 50 }, (_, i) => {
        const kind = (['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const)[Math.floor(random() * 3)];
        return {
          programId: programs[Math.floor(random() * 2)],
          caseId: `c-${batch}-${i}`,
          kind,
          value:
            kind === 'RESOLUTION_TIME'
              ? Math.round(random() * 300) / 10
              : kind === 'SATISFACTION'
                ? 1 + Math.floor(random() * 5)
                : null,
          occurredAt: new Date(start + Math.floor(random() * (end - start))).toISOString(),
        };
      }),
    );
    const answers = await Promise.all(
      batches.map((events, i) => (i % 2 === 0 ? onA : onB).ok(RecordEventsDocument, { events })),
    );
    expect(answers.reduce((sum, r) => sum + r.recordEvents.accepted, 0)).toBe(24 * 50);

    // The naive recomputation: straight from what was sent.
    const naive = (programId: string | null, from = start, to = end) => {
      const events = batches
        .flat()
        .filter((e) => (programId === null || e.programId === programId) && within(e, from, to));
      const of = (kind: string) => events.filter((e) => e.kind === kind).map((e) => e.value as number);
      const [days, scores] = [of('RESOLUTION_TIME'), of('SATISFACTION')];
      return {
        resolvedCases: days.length,
        avgResolutionTime: days.reduce((s, v) => s + v, 0) / days.length,
        satisfactionResponses: scores.length,
        avgSatisfaction: scores.reduce((s, v) => s + v, 0) / scores.length,
        totalConflicts: of('CONFLICT').length,
      };
    };
    const within = (e: EventInput, from: number, to: number) => {
      const at = Date.parse(e.occurredAt as string);
      return at >= from && at < to;
    };
    const expectTotals = (got: Record<string, unknown>, want: ReturnType<typeof naive>) => {
      expect(got).toMatchObject({
        instance: got.instance,
        resolvedCases: want.resolvedCases,
        satisfactionResponses: want.satisfactionResponses,
        totalConflicts: want.totalConflicts,
      });
      expect(got.avgResolutionTime).toBeCloseTo(want.avgResolutionTime, 9);
      expect(got.avgSatisfaction).toBeCloseTo(want.avgSatisfaction, 9);
    };

    const range = { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
    for (const [instance, ops] of [
      ['A', onA],
      ['B', onB],
    ] as const) {
      for (const programId of [...programs, null]) {
        const { dashboard } = await ops.ok(DashboardDocument, { programId, ...range });
        expect(dashboard.programId).toBe(programId);
        expectTotals({ instance, ...dashboard }, naive(programId));
      }
    }
    // Month by month in the program's own zone: each bucket is a rollup row.
    const { dashboard } = await onB.ok(DashboardSeriesDocument, { programId: 'ROLL', ...range, granularity: 'MONTH' });
    expect(dashboard.series).toHaveLength(12);
    for (const [month, point] of dashboard.series.entries()) {
      const want = naive('ROLL', Date.UTC(2025, month, 1), Date.UTC(2025, month + 1, 1));
      expect(point.resolvedCases).toBe(want.resolvedCases);
      expect(point.satisfactionResponses).toBe(want.satisfactionResponses);
      expect(point.totalConflicts).toBe(want.totalConflicts);
    }
  });

  it('a retraction sent to both instances at once subtracts the event once', async () => {
    const [onA, onB] = [operationsAt(a), operationsAt(b)];
    await onA.ok(CreateProgramDocument, { input: { id: 'RETR', name: 'Retractions', timezone: 'UTC' } });
    // In 2025, so the dashboard below reads whole buckets from the rollups, not raw events.
    const occurredAt = '2025-03-10T12:00:00.000Z';
    const recorded = await onA.ok(RecordResolutionTimeDocument, {
      input: { programId: 'RETR', caseId: 'gone', days: 2, occurredAt },
    });
    await onB.ok(RecordResolutionTimeDocument, { input: { programId: 'RETR', caseId: 'stays', days: 4, occurredAt } });

    // The test holds the program's lock, so both instances read the event as not yet retracted and
    // then queue for the lock: the second to get it works from a stale read, the race made certain.
    const schema = new URL(databaseUrl).searchParams.get('schema')!;
    const holder = new pg.Client({ connectionString: runDatabaseUrl() }); // advisory locks are per database
    await holder.connect();
    onTestFinished(() => holder.end());
    await holder.query('begin');
    await holder.query('select pg_advisory_xact_lock(hashtext($1))', [programLockKey(schema, 'RETR')]);
    const { id } = recorded.recordResolutionTime.event;
    const both = Promise.all([onA.ok(RetractEventDocument, { id }), onB.ok(RetractEventDocument, { id })]);
    const keys = [programLockKey(schema, 'RETR')];
    for (let waiting = 0; waiting < 2; ) {
      const { rows } = await holder.query<{ n: number }>(
        `select count(*)::int as n from pg_locks
          where locktype = 'advisory' and not granted and ((classid::bigint << 32) | objid::bigint) = any(select hashtext(k)::bigint from unnest($1::text[]) k)`,
        [keys],
      );
      waiting = rows[0].n;
      if (waiting < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await holder.query('commit');

    for (const { retractEvent } of await both) expect(retractEvent.retractedAt).not.toBeNull();
    for (const ops of [onA, onB]) {
      const { dashboard } = await ops.ok(DashboardDocument, {
        programId: 'RETR',
        from: '2025-01-01T00:00:00.000Z',
        to: '2026-01-01T00:00:00.000Z',
      });
      expect(dashboard).toMatchObject({ resolvedCases: 1, avgResolutionTime: 4 });
    }
  });

  it("a write transaction held open on one instance does not hold up the other's writes to other programs", async () => {
    const [onA, onB] = [operationsAt(a), operationsAt(b)];
    await onA.ok(CreateProgramDocument, { input: { id: 'HELD', name: 'Held', timezone: 'UTC' } });
    await onA.ok(CreateProgramDocument, { input: { id: 'FREE', name: 'Free', timezone: 'Asia/Kolkata' } });
    const occurredAt = '2025-05-05T05:05:05.000Z';
    const recordFree = (caseId: string) =>
      onB.ok(RecordResolutionTimeDocument, { input: { programId: 'FREE', caseId, days: 2, occurredAt } });
    // Warm: B's connections are open and its code paths compiled before anything is timed. The
    // last three give what such a write takes with nothing held, on this machine at this moment.
    const unheld: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      await recordFree(`warm-${i}`);
      if (i >= 3) unheld.push(performance.now() - started);
    }

    // A's write to HELD stops inside its transaction, after its locks and before its commit: the
    // test's own transaction has inserted, uncommitted, the event row A's insert will collide with.
    const schema = new URL(databaseUrl).searchParams.get('schema')!;
    const holder = new pg.Client({ connectionString: runDatabaseUrl(), options: `-c search_path=${schema}` });
    await holder.connect();
    onTestFinished(() => holder.end());
    await holder.query('begin');
    await holder.query(
      `insert into events (id, program_id, kind, case_id, value, occurred_at, recorded_at, idempotency_key)
       values (nextval('events_id_seq'), 'HELD', 'RESOLUTION_TIME', 'held', 1, 0, 0, 'held-open')`,
    );
    const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    const held = onA.ok(RecordResolutionTimeDocument, {
      input: { programId: 'HELD', caseId: 'held', days: 1, occurredAt, idempotencyKey: 'held-open' },
    });
    let settled = false;
    void held.finally(() => (settled = true)).catch(() => {});
    const blockedBy = async (pid: number) =>
      (
        await holder.query<{ pid: number }>('select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [
          pid,
        ])
      ).rows.map((r) => r.pid);
    let heldPids: number[] = [];
    while ((heldPids = await blockedBy(holderPid)).length === 0) await new Promise((r) => setTimeout(r, 10));
    const [aPid] = heldPids;

    // B writes FREE while A's transaction is open: it must not wait for it. Were it to, the race
    // below sees B's backend blocked by A's and fails at once, instead of waiting out the test.
    const elapsed: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const write = recordFree(`meanwhile-${i}`).then(() => performance.now() - started);
      let stop = false;
      const waited = (async () => {
        while (!stop) {
          if ((await blockedBy(aPid)).length > 0) return 'waited';
          await new Promise((r) => setTimeout(r, 20));
        }
        return 'ok';
      })();
      const first = await Promise.race([write, waited]);
      stop = true;
      expect(first, "B's write to FREE waited for A's transaction on HELD").not.toBe('waited');
      elapsed.push(first as number);
    }
    expect(settled, "A's transaction was still open while B committed").toBe(false);
    expect(await blockedBy(holderPid)).toEqual([aPid]);
    // Within 100 ms, beyond what the same write takes with nothing held (a few ms on an idle
    // machine; on a loaded one the baseline carries the load). Best of three each: the machine may
    // be busy with other work at any one moment.
    const times = (list: number[]) => list.map((ms) => ms.toFixed(1)).join(', ');
    expect(
      Math.min(...elapsed),
      `B's commits took ${times(elapsed)} ms with A's transaction open, ${times(unheld)} ms without`,
    ).toBeLessThan(Math.min(...unheld) + 100);

    // Let A go: its insert proceeds and commits. Both writes count, on both instances.
    await holder.query('rollback');
    expect((await held).recordResolutionTime.duplicate).toBe(false);
    const range = { from: '2025-01-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' };
    for (const ops of [onA, onB]) {
      for (const [programId, resolvedCases] of [
        ['HELD', 1],
        ['FREE', 9],
      ] as const) {
        const { dashboard } = await ops.ok(DashboardDocument, { programId, ...range });
        expect(dashboard.resolvedCases).toBe(resolvedCases);
      }
    }
  });
});
