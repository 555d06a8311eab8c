/**
 * The set test (after Jepsen and SQLite's crash tests): concurrent writers record uniquely keyed
 * events, single and in batches, while the server process is killed with SIGKILL at random moments
 * and restarted on the same database. Afterwards every acknowledged event is stored exactly once,
 * the database is intact, and the rollups equal a rebuild from the raw events.
 */
import { print } from 'graphql';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import {
  CreateProgramDocument,
  DashboardDocument,
  RecordEventsDocument,
  RecordResolutionTimeDocument,
  RecordSatisfactionDocument,
} from './generated/operations.js';
import { freshDatabaseUrl, testDialect } from './helpers/app.js';
import { changes } from './helpers/changes.js';
import { startServer, type ServerProcess } from './helpers/process.js';

const KILLS = 10;
const SINGLE_WRITERS = 3;
const BATCH_WRITERS = 2;
const BATCH_SIZE = 25;
const DAY = 86_400_000;

/** One mutation as sent, kept so that a call whose answer was lost can be sent again, same keys and all. */
interface Call {
  query: string;
  variables: Record<string, unknown>;
  keys: string[];
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const RECORD_RESOLUTION = print(RecordResolutionTimeDocument);
const RECORD_SATISFACTION = print(RecordSatisfactionDocument);
const RECORD_EVENTS = print(RecordEventsDocument);

describe('crash safety', () => {
  it('keeps every acknowledged event exactly once across SIGKILLs at random moments, with the database intact and rollups exact', async () => {
    const seed = Date.now() % 1_000_000;
    const rand = random(seed);
    const databaseUrl = freshDatabaseUrl();
    // Integer values keep rollup sums exact whatever order they were added in.
    const env = { DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0' };
    const now = Date.now();
    const occurredAt = () => new Date(now - Math.floor(rand() * 90 * DAY)).toISOString();

    let server: ServerProcess = await startServer(env);
    expect(
      (
        await server.graphql(print(CreateProgramDocument), {
          input: { id: 'P', name: 'Crash', timezone: 'America/New_York' },
        })
      ).body.errors,
    ).toBeUndefined();

    const acknowledged = new Set<string>();
    /** Calls whose answer never came (the process died): stored or not, nobody knows yet. */
    const unanswered: Call[] = [];
    let up: Promise<void> = Promise.resolve();
    let stopWriters = false;
    let acksSinceStart = 0;
    const acks = changes();

    /** Sends one call; true when it was acknowledged, false when the server was not there to answer. */
    async function send(call: Call): Promise<boolean> {
      let answer: Awaited<ReturnType<ServerProcess['graphql']>>;
      try {
        answer = await server.graphql(call.query, call.variables);
      } catch {
        return false; // connection refused or reset: the process is down or dying
      }
      if (answer.status === 200 && !answer.body.errors) {
        for (const key of call.keys) acknowledged.add(key);
        acksSinceStart++;
        acks.notify();
        return true;
      }
      throw new Error(`unexpected answer ${answer.status}: ${JSON.stringify(answer.body)}`);
    }

    function singleCall(writer: number, n: number): Call {
      const key = `s${writer}-${n}`;
      const input = { programId: 'P', caseId: key, idempotencyKey: key, occurredAt: occurredAt() };
      return n % 2 === 0
        ? {
            query: RECORD_RESOLUTION,
            variables: { input: { ...input, days: 1 + Math.floor(rand() * 30) } },
            keys: [key],
          }
        : {
            query: RECORD_SATISFACTION,
            variables: { input: { ...input, score: 1 + Math.floor(rand() * 5) } },
            keys: [key],
          };
    }

    function batchCall(writer: number, n: number): Call {
      const events = Array.from({ length: BATCH_SIZE }, (_, i) => {
        const key = `b${writer}-${n}-${i}`;
        const kind = (['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const)[i % 3];
        const value =
          kind === 'RESOLUTION_TIME'
            ? 1 + Math.floor(rand() * 30)
            : kind === 'SATISFACTION'
              ? 1 + Math.floor(rand() * 5)
              : null;
        return { programId: 'P', kind, caseId: key, idempotencyKey: key, value, occurredAt: occurredAt() };
      });
      return { query: RECORD_EVENTS, variables: { events }, keys: events.map((e) => e.caseId) };
    }

    async function writer(make: (n: number) => Call) {
      for (let n = 0; !stopWriters; n++) {
        const call = make(n);
        if (!(await send(call))) {
          unanswered.push(call);
          await up;
        }
      }
    }

    const writers = [
      ...Array.from({ length: SINGLE_WRITERS }, (_, w) => writer((n) => singleCall(w, n))),
      ...Array.from({ length: BATCH_WRITERS }, (_, w) => writer((n) => batchCall(w, n))),
    ];

    let kills = 0;
    while (kills < KILLS) {
      // A random moment once writes are flowing again: mid-transaction, mid-answer, or between.
      await acks.until(() => acksSinceStart >= 3);
      await new Promise((resolve) => setTimeout(resolve, 50 + rand() * 700));
      let restarted!: () => void;
      up = new Promise((resolve) => (restarted = resolve));
      server.child.kill('SIGKILL');
      expect((await server.exited).signal).toBe('SIGKILL');
      kills++;
      server = await startServer(env);
      acksSinceStart = 0;
      restarted();
    }
    stopWriters = true;
    await Promise.all(writers);

    // Calls that never heard back are sent again with the same keys: each is stored once, whether
    // or not its first attempt got in before the kill.
    for (const call of unanswered) expect(await send(call)).toBe(true);

    const dashboard = (await server.graphql(print(DashboardDocument), { programId: 'P' })).body.data.dashboard;
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const database = await openDatabase(databaseUrl);
    try {
      const rows = await database.db
        .selectFrom('events')
        .select(['case_id', 'idempotency_key', 'kind', 'value'])
        .where('program_id', '=', 'P')
        .execute();
      const copies = new Map<string, number>();
      for (const row of rows) copies.set(row.case_id, (copies.get(row.case_id) ?? 0) + 1);
      const lost = [...acknowledged].filter((key) => !copies.has(key));
      const twice = [...copies].filter(([, n]) => n > 1).map(([key]) => key);
      const unknown = [...copies.keys()].filter((key) => !acknowledged.has(key));
      console.log(
        `crash test (${testDialect}, seed ${seed}): kills made ${kills}, acknowledged events checked ${acknowledged.size}, ` +
          `calls resent after a kill ${unanswered.length}, lost: ${lost.length}, stored twice: ${twice.length}`,
      );
      expect(kills).toBeGreaterThanOrEqual(10);
      expect(lost).toEqual([]);
      expect(twice).toEqual([]);
      expect(unknown).toEqual([]);
      expect(rows.every((r) => r.idempotency_key === r.case_id)).toBe(true);

      if (testDialect === 'sqlite') {
        const sqlite = new SQLite(databaseUrl, { readonly: true });
        expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
        sqlite.close();
      }

      // What the dashboard read from the rollups equals a plain count over the raw events.
      const resolutions = rows.filter((r) => r.kind === 'RESOLUTION_TIME');
      const scores = rows.filter((r) => r.kind === 'SATISFACTION');
      expect(dashboard.resolvedCases).toBe(resolutions.length);
      expect(dashboard.satisfactionResponses).toBe(scores.length);
      expect(dashboard.totalConflicts).toBe(rows.filter((r) => r.kind === 'CONFLICT').length);
      expect(dashboard.avgResolutionTime).toBeCloseTo(
        resolutions.reduce((s, r) => s + Number(r.value), 0) / resolutions.length,
        9,
      );

      // And every rollup row equals the one a rebuild from the raw events makes.
      const snapshot = async () =>
        (await database.db.selectFrom('rollups').selectAll().execute())
          .map((r) => JSON.stringify({ ...r, res_hist: Buffer.from(r.res_hist).toString('base64') }))
          .sort();
      const kept = await snapshot();
      await database.db.updateTable('rollup_state').set({ version: 0 }).where('id', '=', 1).execute();
      expect(await ensureRollups(database)).toBe(true);
      expect(kept).toEqual(await snapshot());
    } finally {
      await database.close();
    }
  }, 150_000);
});
