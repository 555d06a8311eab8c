/**
 * Overload: driven beyond the rate it sustains, a server process keeps answering — what it
 * cannot take on within MAX_IN_FLIGHT_REQUESTS (requests) or RECORD_QUEUE_MAX_EVENTS (events
 * waiting for a commit) it refuses at once with OVERLOADED (503, Retry-After), storing nothing —
 * and it recovers when the load drops. A busy database never
 * surfaces: two processes writing one database (one SQLite file) both answer every write.
 */
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { CreateProgramDocument, RecordEventsDocument } from './generated/operations.js';
import { ADMIN_KEY, freshDatabaseUrl, testApp, testDialect } from './helpers/app.js';
import { startServer, type ServerProcess } from './helpers/process.js';

const RECORD_EVENTS = print(RecordEventsDocument);
const BATCH = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A batch of uniquely keyed events; its keys tell afterwards which batches were stored. */
function batch(tag: string) {
  return Array.from({ length: BATCH }, (_, i) => ({
    programId: 'P',
    kind: 'RESOLUTION_TIME',
    caseId: `${tag}-${i}`,
    idempotencyKey: `${tag}-${i}`,
    value: 1 + (i % 9),
  }));
}

type Outcome = 'stored' | 'overloaded';

/** Sends one batch; anything but an acknowledgement or a clean OVERLOADED refusal fails the test. */
async function send(server: ServerProcess, tag: string): Promise<Outcome> {
  const { status, headers, body } = await server.graphql(RECORD_EVENTS, { events: batch(tag) });
  if (status === 200 && !body.errors && body.data.recordEvents.accepted === BATCH) return 'stored';
  if (status === 503 && body.errors?.[0]?.extensions?.code === 'OVERLOADED' && Number(headers.get('retry-after')) >= 1)
    return 'overloaded';
  throw new Error(`unexpected answer ${status}: ${JSON.stringify(body)}`);
}

async function storedTags(databaseUrl: string): Promise<Map<string, number>> {
  const database = await openDatabase(databaseUrl);
  try {
    const rows = await database.db.selectFrom('events').select('case_id').execute();
    const tags = new Map<string, number>();
    for (const { case_id } of rows) {
      const tag = case_id.slice(0, case_id.lastIndexOf('-'));
      tags.set(tag, (tags.get(tag) ?? 0) + 1);
    }
    return tags;
  } finally {
    await database.close();
  }
}

describe('overload', () => {
  it('beyond the rate it sustains keeps answering, refuses the excess with OVERLOADED and Retry-After storing none of it, and recovers when the load drops', async () => {
    const databaseUrl = freshDatabaseUrl();
    // Small bounds, so that the overload passes them within the test.
    const server = await startServer({
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_IN_FLIGHT_REQUESTS: '16',
      RECORD_QUEUE_MAX_EVENTS: String(10 * BATCH),
    });
    expect(
      (await server.graphql(print(CreateProgramDocument), { input: { id: 'P', name: 'Load', timezone: 'UTC' } })).body
        .errors,
    ).toBeUndefined();
    const outcomes = new Map<string, Outcome>();

    // What it sustains: eight writers, each sending its next batch when the last is answered.
    const started = performance.now();
    let calibrated = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let n = 0; performance.now() - started < 1_500; n++) {
          const tag = `warm${w}.${n}`;
          outcomes.set(tag, await send(server, tag));
          calibrated++;
        }
      }),
    );
    const sustainedPerSecond = calibrated / ((performance.now() - started) / 1000);

    // Twice that, open loop: batches keep coming whether or not earlier ones were answered. Eight
    // closed-loop writers can underrate what the server takes (each waits for its answer, and the
    // writer thread merges what waits into one commit), so the rate doubles, up to four times,
    // until some batch is refused.
    const overload: Promise<void>[] = [];
    let rate = 2 * sustainedPerSecond;
    let n = 0;
    for (let phase = 0; phase < 4; phase++, rate *= 2) {
      const phaseStart = performance.now();
      for (let k = 0; performance.now() - phaseStart < 1_500; k++, n++) {
        const tag = `over${n}`;
        overload.push(send(server, tag).then((outcome) => void outcomes.set(tag, outcome)));
        const due = phaseStart + (k + 1) * (1000 / rate);
        if (due > performance.now()) await sleep(due - performance.now());
      }
      await Promise.all(overload);
      if ([...outcomes].some(([tag, outcome]) => tag.startsWith('over') && outcome === 'overloaded')) break;
    }
    const over = [...outcomes].filter(([tag]) => tag.startsWith('over'));
    const refused = over.filter(([, o]) => o === 'overloaded').length;

    // The load drops to one writer: everything is taken again.
    for (let n = 0; n < 20; n++) {
      const tag = `after${n}`;
      outcomes.set(tag, await send(server, tag));
    }
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    console.log(
      `overload (${testDialect}): sustained ${sustainedPerSecond.toFixed(0)} batches/s of ${BATCH}; at up to ${(rate / sustainedPerSecond).toFixed(0)}x that ${over.length} batches sent, ` +
        `${over.length - refused} stored, ${refused} refused with OVERLOADED; all 20 stored after the load dropped`,
    );
    expect(refused).toBeGreaterThan(0);
    expect([...outcomes].filter(([tag]) => tag.startsWith('after')).every(([, o]) => o === 'stored')).toBe(true);
    // Acknowledged batches are stored whole, refused ones not at all.
    const stored = await storedTags(databaseUrl);
    for (const [tag, outcome] of outcomes)
      expect([tag, stored.get(tag) ?? 0]).toEqual([tag, outcome === 'stored' ? BATCH : 0]);
  }, 60_000);

  it('bounds the events waiting for a commit: beyond RECORD_QUEUE_MAX_EVENTS a record is refused with OVERLOADED and stores nothing', async () => {
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '0', RECORD_QUEUE_MAX_EVENTS: String(5 * BATCH) } });
    await t.program('P');
    const { recorder } = t.app.services;
    // Thirty batches at once: they reach the Recorder before its first commit begins.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, n) => t.run(RecordEventsDocument, { events: batch(`b${n}`) as never })),
    );
    const refused = answers.filter((a) => a.errors?.[0]?.extensions?.code === 'OVERLOADED');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.status === 503 && a.errors![0].extensions!.retryAfterSeconds === 1)).toBe(true);
    expect(answers.every((a) => a.errors === undefined || a.errors[0].extensions?.code === 'OVERLOADED')).toBe(true);
    expect(recorder.peakQueuedEvents).toBeLessThanOrEqual(5 * BATCH);
    const stored = await t.app.services.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe((30 - refused.length) * BATCH);
    // Operators see the refusals in /metrics.
    const { port } = await t.app.start();
    const scraped = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
    ).text();
    expect(scraped).toMatch(new RegExp(`^overload_refusals_total\\{bound="record_queue"\\} ${refused.length}$`, 'm'));
    // Once the queue has drained, records are taken again.
    await recorder.idle();
    expect((await t.ok(RecordEventsDocument, { events: batch('after') as never })).recordEvents.accepted).toBe(BATCH);
    console.log(
      `recorder queue bound ${5 * BATCH} events: 30 batches of ${BATCH} at once, ${refused.length} refused, most waiting ${recorder.peakQueuedEvents}`,
    );
  });

  it('never lets a busy database (SQLITE_BUSY) reach a caller when two processes write one database', async () => {
    const databaseUrl = freshDatabaseUrl();
    const env = { DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0' };
    const first = await startServer(env);
    expect(
      (await first.graphql(print(CreateProgramDocument), { input: { id: 'P', name: 'Two', timezone: 'UTC' } })).body
        .errors,
    ).toBeUndefined();
    const second = await startServer(env);

    const tags: string[] = [];
    await Promise.all(
      [first, second].flatMap((server, s) =>
        Array.from({ length: 4 }, async (_, w) => {
          for (let n = 0; n < 12; n++) {
            const tag = `p${s}w${w}n${n}`;
            expect(await send(server, tag)).toBe('stored');
            tags.push(tag);
          }
        }),
      ),
    );
    for (const server of [first, second]) server.child.kill('SIGTERM');
    await Promise.all([first.exited, second.exited]);
    const stored = await storedTags(databaseUrl);
    expect(tags.filter((tag) => stored.get(tag) !== BATCH)).toEqual([]);
    console.log(
      `two processes on one ${testDialect} database: ${tags.length} batches of ${BATCH} written, every one answered and stored`,
    );
  }, 60_000);
});
