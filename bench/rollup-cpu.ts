/**
 * `npx tsx bench/rollup-cpu.ts [--commits N] [--order live|scattered] [--plain] [--digest]`: the
 * CPU a event of the rollup work alone, as a commit of the SQLite writer does it for the bench's
 * batches (bench/batch-events.ts, 2,000 events, with office, channel and case type unless
 * --plain): the deltas folded (rollupDeltas), each added to the row remembered from the commit
 * before (as WrittenRows keeps them) and encoded as its row (rowOf). No SQLite, so no fsync and
 * none of its noise: for work on those three; bench/write-cpu.ts measures the whole write.
 * `--digest` prints a digest of every row encoded, which a change to the encoding must keep.
 */
import { createHash } from 'node:crypto';
import { encodeAttributes } from '../src/events/attributes.js';
import type { Aggregate } from '../src/kpis/aggregate.js';
import { type RollupEvent, rollupDeltas, rowOf } from '../src/kpis/rollups.repository.js';
import { WrittenRows } from '../src/write/written-rows.js';
import { batchEvents, type BatchOrder } from './batch-events.js';
import { PROGRAMS } from './dataset.js';
import { BATCH, fmt } from './harness.js';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const COMMITS = Number(arg('commits', '80'));
const ORDER = arg('order', 'live') as BatchOrder;
const ATTRIBUTES = !process.argv.includes('--plain');
const DIGEST = process.argv.includes('--digest');
const COMMIT = 2_000;
const WARM_UP = 5;

const zones = new Map(PROGRAMS.map((p) => [p.id, p.timezone]));
// Half the programs judged against a standard, as the rows' res_within and res_judged are.
const standards = new Map(PROGRAMS.map((p, i) => [p.id, i % 2 ? 5 : null]));
let now = Date.parse('2026-12-07T12:00:00Z');
const commits = Array.from({ length: WARM_UP + COMMITS }, (_, n): RollupEvent[] => {
  now += ORDER === 'live' ? 150 : 0;
  return Array.from({ length: COMMIT / BATCH }, (_, b) =>
    batchEvents(n * 16 + b, BATCH, [...zones.keys()], now, 'cpu', ORDER, ATTRIBUTES).map((e) => ({
      program_id: e.programId,
      kind: e.kind as RollupEvent['kind'],
      value: e.value,
      occurred_at: Date.parse(e.occurredAt),
      attributes: encodeAttributes(e.attributes ?? null),
    })),
  ).flat();
});

const written = new WrittenRows<Aggregate>(64 * 1024 * 1024, (a) => a.footprint());
const digest = createHash('sha256');
let rows = 0;
function commit(events: RollupEvent[]) {
  for (const delta of rollupDeltas(events, zones, 1, standards, '*')) {
    const key = `${delta.level} ${delta.programId} ${delta.bucketStart}`;
    let merged = written.get(key);
    if (merged) merged.merge(delta.aggregate);
    else merged = delta.shared ? delta.aggregate.copy() : delta.aggregate;
    const row = rowOf(delta.programId, delta.level, delta.bucketStart, merged);
    written.set(key, merged);
    rows++;
    if (DIGEST)
      for (const value of Object.values(row))
        digest.update(value instanceof Uint8Array ? Buffer.from(value).toString('hex') : String(value));
  }
}
for (const events of commits.slice(0, WARM_UP)) commit(events);
rows = 0;
const cpu = process.cpuUsage();
for (const events of commits.slice(WARM_UP)) commit(events);
const used = process.cpuUsage(cpu);
console.log(
  `${ORDER}, ${ATTRIBUTES ? 'with 3 attributes' : 'without'}: ${fmt((used.user + used.system) / (COMMITS * COMMIT), 2)} µs of CPU a event, ` +
    `${fmt(rows / COMMITS)} rows a commit${DIGEST ? `, digest ${digest.digest('hex').slice(0, 16)}` : ''}`,
);
