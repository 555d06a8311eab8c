import { insertRows } from '../write/insert-rows.js';
import type { EventTable, Executor } from '../db/types.js';

export type EventRow = EventTable;

const CHUNK = 500;
const COLUMNS = [
  'id',
  'program_id',
  'kind',
  'case_id',
  'value',
  'reason',
  'occurred_at',
  'recorded_at',
  'retracted_at',
  'idempotency_key',
  'payload_hash',
  'api_key_id',
  'attributes',
] as const satisfies readonly (keyof EventRow)[];

export async function insertEvents(trx: Executor, rows: EventRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await insertRows(trx, 'events', COLUMNS, rows.slice(i, i + CHUNK), (template) =>
      trx.insertInto('events').values(template),
    );
  }
}

/** The stored events of `programId` that carry one of `keys`. */
export async function eventsByIdempotencyKeys(trx: Executor, programId: string, keys: string[]): Promise<EventRow[]> {
  const found: EventRow[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    found.push(
      ...(await trx
        .selectFrom('events')
        .selectAll()
        .where('program_id', '=', programId)
        .where('idempotency_key', 'in', keys.slice(i, i + CHUNK))
        .execute()),
    );
  }
  return found;
}

export function eventById(db: Executor, id: number): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** False when the event was already retracted (by another request or instance): nothing changed. */
export async function markRetracted(trx: Executor, id: number, at: number): Promise<boolean> {
  const result = await trx
    .updateTable('events')
    .set({ retracted_at: at })
    .where('id', '=', id)
    .where('retracted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
