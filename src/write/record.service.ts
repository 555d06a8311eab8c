/**
 * Group commit (see index.ts for the whole path): mutations queue here, are gathered into groups,
 * handed to the writer, and answered after their commit; then the change notices are published.
 */
import type { OpenDatabase } from '../db/database.js';
import { ALL_PROGRAMS_SHARDS } from '../kpis/rollup-levels.js';
import { KnownPrograms } from '../programs/known-programs.js';
import { applyRollupDeltas, rollupDeltas, standardsOf } from '../kpis/rollups.repository.js';
import type { EventBus } from '../realtime/pubsub.js';
import { notFound, overloaded } from '../schema/errors.js';
import { inProcessWriter, type EventWriter } from './event-writer.js';
import type { SpooledOutcome, SpooledWrite } from './spooled-write.js';
import { eventById, markRetracted, type EventRow } from '../events/events.repository.js';
import type { ValidEvent } from '../events/validate.js';
import {
  changeNotices,
  MAX_EVENTS_PER_COMMIT,
  programsOf,
  type RecordOutcome,
  type UnitInput,
  type Written,
} from './write-units.js';

export type { RecordOutcome } from './write-units.js';

/** Who records, and how the outcome is told. */
export interface RecordOptions {
  /** The key recorded on each event; null for the bootstrap ADMIN_API_KEY. */
  keyId: string | null;
  /** A batch: errors name the failing event's index (`events[3].value`), not the field alone. */
  indexed?: boolean;
  /** Whether the outcome lists each event (default); a batch's answer needs only the counts. */
  returnEvents?: boolean;
}

/** What one mutation asked to write, and who waits for it. A unit is written whole or not at all. */
interface Unit extends UnitInput {
  resolve(outcome: RecordOutcome): void;
  reject(error: unknown): void;
}

/**
 * Gathering stops once this many events wait: it saves fsyncs, which matters for single events;
 * a batch's commit costs its writing, and each moment waited is one the writer thread stands idle.
 */
const GATHER_EVENTS = 1_000;
/** Most turns of the event loop a commit waits for more mutations to join it. */
const GATHER_TURNS = 8;

export class Recorder {
  private queue: Unit[] = [];
  /** Whether the next commit is being gathered, and the commits handed to the writer and not answered yet. */
  private gathering = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Spools waiting for the writer to have room for them (recordSpooled). */
  private roomWaiters: (() => void)[] = [];
  /** Write transactions committed so far: fewer than the mutations answered when they share commits. */
  commits = 0;
  /** Events stored so far, duplicates excluded (the ingestion-rate metric reads it). */
  eventsStored = 0;
  /** Events waiting for their commit now (queued here or being written), the most ever waiting, and mutations refused as overload. */
  queuedEvents = 0;
  peakQueuedEvents = 0;
  refused = 0;
  /**
   * Programs and their zones, read once: the mutations' existence check and the writes read this
   * one cache (the writer thread receives the zones with each group).
   */
  readonly programs = new KnownPrograms();

  constructor(
    private readonly database: OpenDatabase,
    private readonly bus: EventBus,
    private readonly now: () => number,
    /** Beyond this many waiting events a mutation is refused (OVERLOADED), so the queue cannot grow without bound. */
    private readonly maxQueuedEvents = Number.POSITIVE_INFINITY,
    /** Where the transactions run (event-writer.ts): in this thread unless given another writer. */
    readonly writer: EventWriter = inProcessWriter(database),
  ) {}

  /** Writes the events of one mutation, whole or not at all; resolves after they are committed. */
  record(events: ValidEvent[], { keyId, indexed = false, returnEvents = true }: RecordOptions): Promise<RecordOutcome> {
    // An empty queue takes any unit, so a batch larger than the bound is still possible when idle.
    if (this.queuedEvents > 0 && this.queuedEvents + events.length > this.maxQueuedEvents) {
      this.refused++;
      return Promise.reject(overloaded(`${this.queuedEvents} events are waiting to be written`));
    }
    this.queuedEvents += events.length;
    this.peakQueuedEvents = Math.max(this.peakQueuedEvents, this.queuedEvents);
    return new Promise((resolve, reject) => {
      this.queue.push({ events, keyId, indexed, returnEvents, resolve, reject });
      this.schedule(false);
    });
  }

  /**
   * Hands the writer its next group of units when it can take one more (EventWriter.depth): at
   * once when they queued while the last commit ran, else once arrivals pause (afterArrivals).
   * The writer thread takes every group at once and merges what waits for it into one commit.
   */
  private schedule(now: boolean): void {
    if (this.gathering || this.queue.length === 0 || this.inFlight >= this.writer.depth) return;
    const start = () => {
      this.gathering = false;
      if (this.queue.length === 0 || this.inFlight >= this.writer.depth) return this.settle();
      const group = this.takeCommitGroup();
      this.inFlight++;
      void this.commit(group).finally(() => {
        this.inFlight--;
        for (const unit of group) this.queuedEvents -= unit.events.length;
        this.wakeRoomWaiter();
        this.schedule(true);
        this.settle();
      });
      this.schedule(false);
    };
    this.gathering = true;
    if (now) start();
    else this.afterArrivals(start);
  }

  private wakeRoomWaiter(): void {
    if (this.inFlight < this.writer.depth) this.roomWaiters.shift()?.();
  }

  /**
   * Writes a whole spool in one transaction (an atomic import, or a dry run that rolls back): once
   * the writer has room, as one more commit in flight, so no group runs beside it where that is
   * not allowed (in-process, one transaction at a time). Change notices go out only after a commit.
   */
  async recordSpooled(
    request: Omit<SpooledWrite, 'zones' | 'now'>,
    programIds: readonly string[],
  ): Promise<SpooledOutcome> {
    while (this.inFlight >= this.writer.depth) await new Promise<void>((wake) => this.roomWaiters.push(wake));
    this.inFlight++;
    try {
      const zones = await this.programs.zonesOf(this.database.db, programIds);
      const outcome = await this.writer.writeSpooled({ ...request, zones, now: this.now() });
      if (outcome.committed) {
        this.commits++;
        this.eventsStored += outcome.accepted;
        for (const notice of outcome.notices) this.bus.publish('changes', notice);
      }
      return outcome;
    } finally {
      this.inFlight--;
      this.wakeRoomWaiter();
      this.schedule(true);
      this.settle();
    }
  }

  /** Wakes idle() once nothing is queued, gathered or being written. */
  private settle(): void {
    if (this.gathering || this.inFlight > 0 || this.queue.length > 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Calls `then` once a turn of the event loop brings no new mutation (at most GATHER_TURNS turns):
   * clients answered by one commit send their next mutations together, and those arrive over a few
   * turns, so waiting while they still come lets them share the next commit. A lone mutation waits
   * two turns, microseconds on an idle loop.
   */
  private afterArrivals(then: () => void, seen = -1, turns = 0): void {
    setImmediate(() => {
      const gathering = this.queue.length !== seen && turns < GATHER_TURNS && this.queuedEvents < GATHER_EVENTS;
      if (gathering) this.afterArrivals(then, this.queue.length, turns + 1);
      else then();
    });
  }

  /** Resolves once everything queued so far is committed (used on shutdown). */
  async idle(): Promise<void> {
    if (this.gathering || this.inFlight > 0 || this.queue.length > 0)
      await new Promise<void>((wake) => this.idleWaiters.push(wake));
  }

  /** Once idle, lets the writer go (the SQLite writer thread closes its connection). */
  async close(): Promise<void> {
    await this.idle();
    await this.writer.close();
  }

  /**
   * Writes the units in one transaction and answers each after the commit. Should the transaction
   * fail as a whole (not a unit's own conflict, which only that unit hears), every unit is retried
   * alone, so one bad unit never fails its neighbours.
   */
  private async commit(units: Unit[]): Promise<void> {
    let written: Written;
    try {
      const zones = await this.programs.zonesOf(this.database.db, programsOf(units));
      written = await this.writer.write(units, zones, this.now());
    } catch (error) {
      if (units.length === 1) units[0].reject(error);
      else for (const unit of units) await this.commit([unit]);
      return;
    }
    this.commits += written.commits;
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
    while (
      count < this.queue.length &&
      (count === 0 || events + this.queue[count].events.length <= MAX_EVENTS_PER_COMMIT)
    ) {
      events += this.queue[count].events.length;
      count++;
    }
    return this.queue.splice(0, count);
  }

  /** Takes an event out of every KPI; the event stays readable with retracted_at set. */
  async retract(id: number, canSee: (programId: string) => boolean): Promise<EventRow> {
    const { row, notice } = await this.database.db.transaction().execute(async (trx) => {
      const event = await eventById(trx, id);
      if (!event || !canSee(event.program_id)) throw notFound('event', String(id));
      await this.database.lockPrograms(trx, [event.program_id]);
      if (event.retracted_at !== null) return { row: event, notice: null };
      const zone = (await this.programs.zonesOf(trx, [event.program_id])).get(event.program_id)!;
      const retracted = { ...event, retracted_at: this.now() };
      // The event was read before the lock: on PostgreSQL another instance may have retracted it
      // since. Only the writer whose conditional update changes the row subtracts it.
      if (!(await markRetracted(trx, id, retracted.retracted_at)))
        return { row: (await eventById(trx, id))!, notice: null };
      const total = await this.database.lockAnyOf(trx, ALL_PROGRAMS_SHARDS);
      await applyRollupDeltas(
        trx,
        rollupDeltas(
          [retracted],
          new Map([[event.program_id, zone]]),
          -1,
          await standardsOf(trx, [event.program_id]),
          total,
        ),
        this.database.writtenRollups,
      );
      return { row: retracted, notice: changeNotices([retracted])[0] };
    });
    this.commits++;
    if (notice) this.bus.publish('changes', notice);
    return row;
  }
}
