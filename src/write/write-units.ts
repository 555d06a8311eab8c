/**
 * One write transaction of the write path (see index.ts): the events of several mutations (units)
 * inserted and folded into the rollups, each unit whole or not at all. Runs wherever the writer
 * runs: in the service's own thread or in the SQLite writer thread (writer-thread.ts).
 */
import { hash } from 'node:crypto';
import type { OpenDatabase } from '../db/database.js';
import type { Executor } from '../db/types.js';
import { ALL_PROGRAMS_SHARDS } from '../kpis/rollup-levels.js';
import { applyRollupDeltas, rollupDeltas, standardsOf } from '../kpis/rollups.repository.js';
import type { ChangeNotice } from '../realtime/pubsub.js';
import { conflict, notFound } from '../schema/errors.js';
import { sortedAttributes } from '../events/attributes.js';
import { ValueClaims } from './dimension-values.js';
import { eventsByIdempotencyKeys, insertEvents, type EventRow } from '../events/events.repository.js';
import type { ValidEvent } from '../events/validate.js';

/**
 * Most events one transaction takes (at least one whole unit, however large), so a commit never
 * grows without limit: the groups the Recorder hands over, and what the writer thread merges.
 */
export const MAX_EVENTS_PER_COMMIT = 20_000;

/** What one mutation asked to write. */
export interface UnitInput {
  events: ValidEvent[];
  keyId: string | null;
  /** Batches name the failing event's index; single mutations name the field. */
  indexed: boolean;
  /** Whether the outcome lists each event (a batch's answer needs only the counts). */
  returnEvents: boolean;
}

export interface RecordOutcome {
  /** One per input event, when asked for: the stored event, and whether it duplicated an earlier one. */
  results: { event: EventRow; duplicate: boolean }[];
  accepted: number;
  duplicates: number;
}

/** Per unit its outcome, or the error that refused it alone; and what changed, per program. */
export interface Written {
  outcomes: (RecordOutcome | Error)[];
  notices: ChangeNotice[];
  /** Transactions committed for this: 1, or 0 where the writer thread merged it into another's. */
  commits: number;
}

/** The time zone of each program the units name that exists (KnownPrograms, read in the service's thread). */
export type ProgramZones = ReadonlyMap<string, string>;

/** The programs the units name. */
export function programsOf(units: readonly UnitInput[]): string[] {
  const ids = new Set<string>();
  for (const unit of units) for (const event of unit.events) ids.add(event.programId);
  return [...ids];
}

export async function writeUnits(
  database: OpenDatabase,
  trx: Executor,
  units: UnitInput[],
  zones: ProgramZones,
  now: number,
): Promise<Written> {
  // Only these programs: writers of other programs go on meanwhile, on this instance's database or another's.
  await database.lockPrograms(trx, programsOf(units));
  const known = await storedByKey(trx, units);
  const claims = await ValueClaims.open(database, trx, units);

  const outcomes: (RecordOutcome | Error)[] = [];
  const fresh: EventRow[] = [];
  for (const unit of units) {
    const staged = stage(unit, zones, known, now);
    if (staged instanceof Error) {
      outcomes.push(staged);
      continue;
    }
    const refused = claims.claim(staged.results, unit.indexed);
    if (refused) {
      outcomes.push(refused);
      continue;
    }
    for (const result of staged.results) {
      if (result.duplicate) continue;
      fresh.push(result.event);
      if (result.event.idempotency_key !== null)
        known.set(idKey(result.event.program_id, result.event.idempotency_key), result.event);
    }
    outcomes.push(unit.returnEvents ? staged : { ...staged, results: [] });
  }
  if (fresh.length === 0) return { outcomes, notices: [], commits: 1 };

  const ids = await database.allocateEventIds(trx, fresh.length);
  for (const [i, row] of fresh.entries()) row.id = ids[i];
  await insertEvents(trx, fresh);
  await claims.store(trx, now);
  // Read under the programs' locks, so an updateProgram changing a standard is wholly before or after this write.
  const standards = await standardsOf(trx, [...new Set(fresh.map((e) => e.program_id))]);
  // The all-programs sums go to a shard no other transaction holds (taken last, held shortest).
  const total = await database.lockAnyOf(trx, ALL_PROGRAMS_SHARDS);
  await applyRollupDeltas(trx, rollupDeltas(fresh, zones, 1, standards, total), database.writtenRollups);
  return { outcomes, notices: changeNotices(fresh), commits: 1 };
}

/** Decides, for each event of a unit, whether it is new, a duplicate, or a conflict. */
function stage(unit: UnitInput, zones: ProgramZones, known: Map<string, EventRow>, now: number): RecordOutcome | Error {
  const results: RecordOutcome['results'] = [];
  const staged = new Map<string, EventRow>();
  for (const [i, event] of unit.events.entries()) {
    if (!zones.has(event.programId)) return notFound('program', event.programId);
    const digest = event.idempotencyKey === null ? null : payloadHash(event);
    // Built once a row: an import's chunk stages thousands of rows in the writer thread.
    const k = event.idempotencyKey === null ? null : idKey(event.programId, event.idempotencyKey);
    if (k !== null) {
      const prior = staged.get(k) ?? known.get(k);
      if (prior) {
        if (prior.payload_hash !== digest) {
          const where = unit.indexed ? `events[${i}].` : '';
          return conflict(`${where}idempotencyKey "${event.idempotencyKey}" was already used with a different payload`);
        }
        results.push({ event: prior, duplicate: true });
        continue;
      }
    }
    const row: EventRow = {
      id: 0,
      program_id: event.programId,
      kind: event.kind,
      case_id: event.caseId,
      value: event.value,
      reason: event.reason,
      occurred_at: event.occurredAt,
      recorded_at: now,
      retracted_at: null,
      idempotency_key: event.idempotencyKey,
      payload_hash: digest,
      api_key_id: unit.keyId,
      attributes: event.attributes ?? null,
    };
    if (k !== null) staged.set(k, row);
    results.push({ event: row, duplicate: false });
  }
  const duplicates = results.filter((r) => r.duplicate).length;
  return { results, accepted: results.length - duplicates, duplicates };
}

async function storedByKey(trx: Executor, units: UnitInput[]): Promise<Map<string, EventRow>> {
  const keysByProgram = new Map<string, Set<string>>();
  for (const unit of units) {
    for (const e of unit.events) {
      if (e.idempotencyKey === null) continue;
      const keys = keysByProgram.get(e.programId) ?? new Set<string>();
      keys.add(e.idempotencyKey);
      keysByProgram.set(e.programId, keys);
    }
  }
  const known = new Map<string, EventRow>();
  for (const [programId, keys] of keysByProgram) {
    for (const row of await eventsByIdempotencyKeys(trx, programId, [...keys])) {
      known.set(idKey(row.program_id, row.idempotency_key!), row);
    }
  }
  return known;
}

const idKey = (programId: string, key: string) => `${programId}\u0000${key}`;

function payloadHash(event: ValidEvent): string {
  const payload: unknown[] = [
    event.kind,
    event.caseId,
    event.value,
    event.reason,
    event.occurredAtGiven ? event.occurredAt : null,
  ];
  // Only when there are any, so the digests of events stored before attributes existed still match.
  if (event.attributes) payload.push(sortedAttributes(event.attributes));
  // crypto.hash, one call: the writer thread spent 5% of an import's time in createHash's object alone.
  return hash('sha256', JSON.stringify(payload), 'base64url');
}

/** One notice per program, spanning the occurredAt of everything written for it. */
export function changeNotices(rows: EventRow[]): ChangeNotice[] {
  const byProgram = new Map<string, ChangeNotice>();
  for (const row of rows) {
    const t = Number(row.occurred_at);
    const notice = byProgram.get(row.program_id);
    if (notice) {
      notice.from = Math.min(notice.from, t);
      notice.to = Math.max(notice.to, t + 1);
    } else byProgram.set(row.program_id, { programId: row.program_id, from: t, to: t + 1 });
  }
  return [...byProgram.values()];
}
