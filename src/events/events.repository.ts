import type { EventTable, Executor } from '../db/types.js';

export type EventRow = EventTable;

const CHUNK = 500;

export async function insertEvents(trx: Executor, rows: EventRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await trx.insertInto('events').values(rows.slice(i, i + CHUNK)).execute();
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

export async function markRetracted(trx: Executor, id: number, at: number): Promise<void> {
  await trx.updateTable('events').set({ retracted_at: at }).where('id', '=', id).execute();
}
