/**
 * The write path: validated events → one transaction that inserts them and folds them into the
 * rollups → commit → one change notice per program. Single mutations that arrive together share
 * a transaction (group commit); none is answered before its commit.
 */
import { createHash } from 'node:crypto';
import type { OpenDatabase } from '../db/database.js';
import type { Executor } from '../db/types.js';
import { ALL_PROGRAMS } from '../kpis/rollup-levels.js';
import { KnownPrograms } from '../programs/known-programs.js';
import { applyRollupDeltas, rollupDeltas } from '../kpis/rollups.repository.js';
import type { ChangeNotice, EventBus } from '../realtime/pubsub.js';
import { conflict, notFound, overloaded } from '../schema/errors.js';
import { eventById, eventsByIdempotencyKeys, insertEvents, markRetracted, type EventRow } from './events.repository.js';
import type { ValidEvent } from './validate.js';

export interface RecordOutcome {
  /** One per input event: the stored event, and whether it was a duplicate of an earlier one. */
  results: { event: EventRow; duplicate: boolean }[];
  accepted: number;
  duplicates: number;
}

/** What one mutation asked to write. A unit is written whole or not at all. */
interface Unit {
  events: ValidEvent[];
  keyId: string | null;
  /** Batches name the failing event's index; single mutations name the field. */
  indexed: boolean;
  resolve(outcome: RecordOutcome): void;
  reject(error: unknown): void;
}

/** Upper bound of events in one shared transaction, so one commit never grows without limit. */
const MAX_EVENTS_PER_COMMIT = 20_000;
/** Most turns of the event loop a commit waits for more mutations to join it. */
const GATHER_TURNS = 8;

export class Recorder {
  private queue: Unit[] = [];
  private running: Promise<void> | null = null;
  /** Write transactions committed so far: fewer than the mutations answered when they share commits. */
  commits = 0;
  /** Events stored so far, duplicates excluded (the ingestion-rate metric reads it). */
  eventsStored = 0;
  /** Events waiting for a commit now, the most ever waiting, and mutations refused as overload. */
  queuedEvents = 0;
  peakQueuedEvents = 0;
  refused = 0;
  /** Programs and their zones, read once (the mutations' existence check uses it too). */
  readonly programs = new KnownPrograms();

  constructor(
    private readonly database: OpenDatabase,
    private readonly bus: EventBus,
    private readonly now: () => number,
    /** Beyond this many waiting events a mutation is refused (OVERLOADED), so the queue cannot grow without bound. */
    private readonly maxQueuedEvents = Number.POSITIVE_INFINITY,
  ) {}

  /** Writes the events of one mutation; resolves after they are committed. */
  record(events: ValidEvent[], keyId: string | null, indexed: boolean): Promise<RecordOutcome> {
    // An empty queue takes any unit, so a batch larger than the bound is still possible when idle.
    if (this.queue.length > 0 && this.queuedEvents + events.length > this.maxQueuedEvents) {
      this.refused++;
      return Promise.reject(overloaded(`${this.queuedEvents} events are waiting to be written`));
    }
    this.queuedEvents += events.length;
    this.peakQueuedEvents = Math.max(this.peakQueuedEvents, this.queuedEvents);
    return new Promise((resolve, reject) => {
      this.queue.push({ events, keyId, indexed, resolve, reject });
      if (!this.running) this.running = new Promise((done) => this.afterArrivals(() => void this.drainQueue().finally(done)));
    });
  }

  /**
   * Calls `then` once a turn of the event loop brings no new mutation (at most GATHER_TURNS turns):
   * clients answered by one commit send their next mutations together, and those arrive over a few
   * turns, so waiting while they still come lets them share the next commit. A lone mutation waits
   * two turns, microseconds on an idle loop.
   */
  private afterArrivals(then: () => void, seen = -1, turns = 0): void {
    setImmediate(() => {
      if (this.queue.length !== seen && turns < GATHER_TURNS) this.afterArrivals(then, this.queue.length, turns + 1);
      else then();
    });
  }

  /** Resolves once everything queued so far is committed (used on shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drainQueue(): Promise<void> {
    try {
      // Mutations that arrive while one transaction runs wait for it, then share the next one.
      while (this.queue.length > 0) await this.commit(this.takeCommitGroup());
    } finally {
      this.running = null;
    }
  }

  /**
   * Writes the units in one transaction and answers each after the commit. Should the transaction
   * fail as a whole (not a unit's own conflict, which only that unit hears), every unit is retried
   * alone, so one bad unit never fails its neighbours.
   */
  private async commit(units: Unit[]): Promise<void> {
    let written: { outcomes: (RecordOutcome | Error)[]; notices: ChangeNotice[] };
    try {
      written = await this.database.db.transaction().execute((trx) => this.writeUnits(trx, units));
    } catch (error) {
      if (units.length === 1) units[0].reject(error);
      else for (const unit of units) await this.commit([unit]);
      return;
    }
    this.commits++;
    for (const outcome of written.outcomes) if (!(outcome instanceof Error)) this.eventsStored += outcome.accepted;
    units.forEach((unit, i) => {
      const outcome = written.outcomes[i];
      if (outcome instanceof Error) unit.reject(outcome);
      else unit.resolve(outcome);
    });
    for (const notice of written.notices) this.bus.publish('changes', notice);
  }

  private takeCommitGroup(): Unit[] {
    let events = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || events + this.queue[count].events.length <= MAX_EVENTS_PER_COMMIT)) {
      events += this.queue[count].events.length;
      count++;
    }
    this.queuedEvents -= events;
    return this.queue.splice(0, count);
  }

  private async writeUnits(trx: Executor, units: Unit[]) {
    const now = this.now();
    const programIds = [...new Set(units.flatMap((u) => u.events.map((e) => e.programId)))];
    // ALL_PROGRAMS too: its rollups take every program's events, so all writers serialise on them.
    await this.database.lockPrograms(trx, [...programIds, ALL_PROGRAMS]);
    const zones = await this.programs.zonesOf(trx, programIds);
    const known = await this.storedByKey(trx, units);

    const outcomes: (RecordOutcome | Error)[] = [];
    const fresh: EventRow[] = [];
    for (const unit of units) {
      const outcome = this.stage(unit, zones, known, now);
      outcomes.push(outcome);
      if (outcome instanceof Error) continue;
      for (const result of outcome.results) {
        if (result.duplicate) continue;
        fresh.push(result.event);
        if (result.event.idempotency_key !== null) known.set(idKey(result.event.program_id, result.event.idempotency_key), result.event);
      }
    }
    if (fresh.length === 0) return { outcomes, notices: [] };

    const ids = await this.database.allocateEventIds(trx, fresh.length);
    fresh.forEach((row, i) => (row.id = ids[i]));
    await insertEvents(trx, fresh);
    await applyRollupDeltas(trx, rollupDeltas(fresh, zones, 1), this.database.writtenRollups);
    return { outcomes, notices: changeNotices(fresh) };
  }

  /** Decides, for each event of a unit, whether it is new, a duplicate, or a conflict. */
  private stage(unit: Unit, zones: Map<string, string>, known: Map<string, EventRow>, now: number): RecordOutcome | Error {
    const results: RecordOutcome['results'] = [];
    const staged = new Map<string, EventRow>();
    for (const [i, event] of unit.events.entries()) {
      const where = unit.indexed ? `events[${i}].` : '';
      if (!zones.has(event.programId)) return notFound('program', event.programId);
      const hash = event.idempotencyKey === null ? null : payloadHash(event);
      if (event.idempotencyKey !== null) {
        const k = idKey(event.programId, event.idempotencyKey);
        const prior = staged.get(k) ?? known.get(k);
        if (prior) {
          if (prior.payload_hash !== hash) {
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
        payload_hash: hash,
        api_key_id: unit.keyId,
      };
      if (event.idempotencyKey !== null) staged.set(idKey(event.programId, event.idempotencyKey), row);
      results.push({ event: row, duplicate: false });
    }
    const duplicates = results.filter((r) => r.duplicate).length;
    return { results, accepted: results.length - duplicates, duplicates };
  }

  private async storedByKey(trx: Executor, units: Unit[]): Promise<Map<string, EventRow>> {
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

  /** Takes an event out of every KPI; the event stays readable with retracted_at set. */
  async retract(id: number, canSee: (programId: string) => boolean): Promise<EventRow> {
    const { row, notice } = await this.database.db.transaction().execute(async (trx) => {
      const event = await eventById(trx, id);
      if (!event || !canSee(event.program_id)) throw notFound('event', String(id));
      await this.database.lockPrograms(trx, [event.program_id, ALL_PROGRAMS]);
      if (event.retracted_at !== null) return { row: event, notice: null };
      const zone = (await this.programs.zonesOf(trx, [event.program_id])).get(event.program_id)!;
      const retracted = { ...event, retracted_at: this.now() };
      // The event was read before the lock: on PostgreSQL another instance may have retracted it
      // since. Only the writer whose conditional update changes the row subtracts it.
      if (!(await markRetracted(trx, id, retracted.retracted_at))) return { row: (await eventById(trx, id))!, notice: null };
      await applyRollupDeltas(trx, rollupDeltas([retracted], new Map([[event.program_id, zone]]), -1), this.database.writtenRollups);
      return { row: retracted, notice: changeNotices([retracted])[0] };
    });
    this.commits++;
    if (notice) this.bus.publish('changes', notice);
    return row;
  }
}

const idKey = (programId: string, key: string) => `${programId}\u0000${key}`;

function payloadHash(event: ValidEvent): string {
  const payload = [event.kind, event.caseId, event.value, event.reason, event.occurredAtGiven ? event.occurredAt : null];
  return createHash('sha256').update(JSON.stringify(payload)).digest('base64url');
}

/** One notice per program, spanning the occurredAt of everything written for it. */
function changeNotices(rows: EventRow[]): ChangeNotice[] {
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
