/**
 * `npx tsx bench/write-cpu.ts [--commit N] [--batches N] [--order live|scattered] [--rounds N]`:
 * the write path's own CPU a event, in-process, with the bench's batches (bench/batch-events.ts)
 * with office, channel and case type against the same batches without, each into a fresh SQLite
 * file (the first with the dimensions declared). Each commit is what the SQLite writer thread runs
 * (writeUnits in one transaction, fsync included), so the ratio says what the writer costs with
 * attributes, without HTTP, GraphQL or a load generator: a quick check for work on the write path,
 * steadier than events/s on a shared machine. bench:breakdowns measures the service as a whole.
 */
import os from 'node:os';
import { openDatabase, type OpenDatabase } from '../src/db/database.js';
import { encodeAttributes } from '../src/events/attributes.js';
import type { ValidEvent } from '../src/events/validate.js';
import { insertDimensions } from '../src/programs/dimensions.repository.js';
import { inProcessWriter } from '../src/write/event-writer.js';
import type { UnitInput } from '../src/write/write-units.js';
import { batchEvents, type BatchOrder } from './batch-events.js';
import { createDatabase, PROGRAMS } from './dataset.js';
import { DIMENSIONS } from './dimensions.js';
import { BATCH, fmt, freshPath } from './harness.js';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
/** Events a commit: the writer thread merges the batches waiting for it (4 clients: 1 to 4 of them). */
const COMMIT = Number(arg('commit', '2000'));
const BATCHES = Number(arg('batches', '60'));
const ROUNDS = Number(arg('rounds', '3'));
const ORDER = arg('order', 'live') as BatchOrder;

const zones = new Map(PROGRAMS.map((p) => [p.id, p.timezone]));

async function open(attributes: boolean): Promise<OpenDatabase> {
  const file = freshPath(`write-cpu-${attributes ? 'dims' : 'plain'}.db`);
  await createDatabase(file);
  const database = await openDatabase(file);
  if (attributes)
    for (const p of PROGRAMS)
      await insertDimensions(
        database.db,
        p.id,
        DIMENSIONS.map(({ key, label, maxValues }) => ({ key, label, maxValues })),
        0,
        0,
      );
  return database;
}

let batchNumber = 0;
function units(attributes: boolean, now: number, n: number): UnitInput[] {
  return Array.from({ length: COMMIT / BATCH }, (_, b) => ({
    keyId: null,
    indexed: true,
    returnEvents: false,
    events: batchEvents(n * 16 + b, BATCH, [...zones.keys()], now, 'cpu', ORDER, attributes).map(
      (e): ValidEvent => ({
        kind: e.kind as ValidEvent['kind'],
        programId: e.programId,
        caseId: e.caseId,
        value: e.value,
        reason: null,
        occurredAt: Date.parse(e.occurredAt),
        occurredAtGiven: true,
        idempotencyKey: null,
        attributes: encodeAttributes(e.attributes ?? null),
      }),
    ),
  }));
}

/** CPU µs a event over `commits` commits, the events built beforehand (as the writer thread receives them). */
async function run(database: OpenDatabase, attributes: boolean, commits: number, clock: { now: number }) {
  const writer = inProcessWriter(database);
  const work = Array.from({ length: commits }, () => {
    // Live batches: each commit's events are the last moments before its `now`, which moves on.
    clock.now += ORDER === 'live' ? 150 : 0;
    return { now: clock.now, units: units(attributes, clock.now, batchNumber++) };
  });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  for (const { now, units } of work) await writer.write(units, zones, now);
  const used = process.cpuUsage(cpu);
  return {
    cpu: (used.user + used.system) / (commits * COMMIT),
    wall: ((performance.now() - t0) * 1000) / (commits * COMMIT),
  };
}

/** `--side dims` or `--side plain`: one side alone (for a profile of it). */
const SIDE = arg('side', 'both');
const sides = [true, false]
  .filter((a) => SIDE === 'both' || a === (SIDE === 'dims'))
  .map((attributes) => ({ attributes, database: null as unknown as OpenDatabase, cpu: 0, wall: 0 }));
for (const side of sides) side.database = await open(side.attributes);
const clocks = sides.map(() => ({ now: Date.now() - 60_000 }));
// Warm-up: the JIT, the statement caches and the first rows of each bucket.
for (const [i, side] of sides.entries()) await run(side.database, side.attributes, 5, clocks[i]);
for (let round = 0; round < ROUNDS; round++)
  for (const [i, side] of sides.entries()) {
    const r = await run(side.database, side.attributes, BATCHES / ROUNDS, clocks[i]);
    side.cpu += r.cpu / ROUNDS;
    side.wall += r.wall / ROUNDS;
  }
for (const side of sides) await side.database.close();
const [withAttributes, without = withAttributes] = sides;
console.log(
  `${ORDER}, ${fmt(COMMIT)} events a commit: CPU a event ${fmt(withAttributes.cpu, 1)} µs with 3 attributes, ${fmt(without.cpu, 1)} µs without: ` +
    `rate ratio ${fmt(without.cpu / withAttributes.cpu, 2)}x by CPU (${fmt(without.wall / withAttributes.wall, 2)}x by wall time); load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}`,
);
