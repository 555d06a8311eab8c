/**
 * The write path, and its speed machinery, in this one folder.
 *
 * How a unit of events gets to disk, and when it is answered:
 * 1. A record mutation (events/events.schema.ts) validates its events (events/validate.ts), checks
 *    that the program exists and that the key may see it (Recorder.programs, a KnownPrograms), and
 *    calls `recorder.record(events, { keyId, ... })`: its events are one unit, written whole or
 *    not at all.
 * 2. Group commit (record.service.ts): the unit queues, or is refused OVERLOADED past
 *    RECORD_QUEUE_MAX_EVENTS. While mutations keep arriving (a few turns of the event loop) the
 *    queue gathers; then a group of units (at most MAX_EVENTS_PER_COMMIT events) is taken, their
 *    programs' zones read from the same KnownPrograms, and handed to the writer once it has room.
 * 3. The writer (event-writer.ts) chooses where the transaction runs: in the service's thread
 *    (PostgreSQL, an in-memory database, SQLITE_WRITER_THREAD=off, or a small group on a SQLite
 *    file while the thread is idle), or in the SQLite writer thread (writer-thread.ts sends the
 *    units packed as columns; writer-thread.worker.ts merges every group waiting into one commit).
 * 4. The transaction (write-units.ts): lock its programs (and, last, a free shard of ALL_PROGRAMS); find stored
 *    idempotency keys; stage each unit (new, duplicate, or a conflict that refuses that unit
 *    alone); insert the new rows (insert-rows.ts: SQL compiled once per shape, on SQLite one
 *    prepared row statement run row by row); fold them into the rollups (kpis/rollups.repository.ts,
 *    which on SQLite skips reading the rollup rows this process wrote last: written-rows.ts).
 * 5. The commit (durable). Only then is each unit answered: its outcome, or its own error. Should
 *    the transaction fail as a whole, each unit of the group is written again alone, so only the
 *    bad one fails. Last, one change notice `{programId, from, to}` per program goes on the bus
 *    (realtime/pubsub.ts), for the live feed (dashboards/feed.ts) and the alert engine.
 */
export { openEventWriter, type EventWriter } from './event-writer.js';
export { Recorder, type RecordOptions, type RecordOutcome } from './record.service.js';
