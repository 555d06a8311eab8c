import { CompiledQuery, type DialectAdapter } from 'kysely';
import type { EventTable, Executor } from '../db/types.js';

export type EventRow = EventTable;

const CHUNK = 500;
const COLUMNS = [
  'id', 'program_id', 'kind', 'case_id', 'value', 'reason', 'occurred_at', 'recorded_at',
  'retracted_at', 'idempotency_key', 'payload_hash', 'api_key_id',
] as const satisfies readonly (keyof EventRow)[];

/**
 * The SQL of an insert of `count` rows, compiled by Kysely once per dialect and row count: building
 * a 500-row insert node by node cost more than the database took to run it.
 */
const insertSql = new WeakMap<DialectAdapter, Map<number, string>>();
function insertStatement(trx: Executor, count: number): string {
  const adapter = trx.getExecutor().adapter;
  let byCount = insertSql.get(adapter);
  if (!byCount) insertSql.set(adapter, (byCount = new Map()));
  let text = byCount.get(count);
  if (text === undefined) {
    const template = Object.fromEntries(COLUMNS.map((c) => [c, null])) as unknown as EventRow;
    text = trx.insertInto('events').values(Array(count).fill(template)).compile().sql;
    if (byCount.size > 64) byCount.clear(); // odd sizes come and go; the common ones come back
    byCount.set(count, text);
  }
  return text;
}

export async function insertEvents(trx: Executor, rows: EventRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const parameters: unknown[] = [];
    for (const row of chunk) for (const column of COLUMNS) parameters.push(row[column]);
    await trx.executeQuery(CompiledQuery.raw(insertStatement(trx, chunk.length), parameters));
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
  const result = await trx.updateTable('events').set({ retracted_at: at }).where('id', '=', id).where('retracted_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
