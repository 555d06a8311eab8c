import { hash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

/**
 * Derived import keys (src/exports/import-key.ts) now begin with the event's occurredAt, so that a
 * file's keys land together in the idempotency index instead of all over it. Keys derived before,
 * `import:<digest>`, are rewritten here to `import:<time>:<digest>`, so that posting again a file
 * imported before this migration still adds nothing.
 *
 * The stored row tells everything the key was derived from except whether the row gave occurredAt
 * (without one, the event was stored at its arrival, and the key left the time out): the key tells
 * that, as it matches the digest of one derivation or the other. Only keys matching the digest
 * with occurredAt change; those without keep their form (the new code derives them the same way),
 * and a key that matches neither (a caller's own key that begins with `import:`) is left alone.
 *
 * The derivation is copied here, not imported, so this migration does what it did whatever the
 * service's code becomes.
 */
const PREFIX = 'import:';
const TIME_OFFSET = 8.64e15;
const BATCH = 1_000;

interface Row {
  id: number | string;
  program_id: string;
  kind: string;
  case_id: string;
  value: number | null;
  occurred_at: number | string;
  attributes: string | null;
  idempotency_key: string;
}

function digestOf(row: Row): string {
  const attributes = row.attributes
    ? Object.entries(JSON.parse(row.attributes) as Record<string, string>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      )
    : [];
  const payload = [row.program_id, row.kind, row.case_id, row.value, Number(row.occurred_at), attributes];
  return hash('sha256', JSON.stringify(payload), 'base64url');
}

const timePart = (occurredAt: number) => (occurredAt + TIME_OFFSET).toString(16).padStart(14, '0');

/** The key in the time-first form, or null when it stays as it is. */
function timeFirst(row: Row): string | null {
  const digest = digestOf(row);
  return row.idempotency_key === PREFIX + digest ? `${PREFIX}${timePart(Number(row.occurred_at))}:${digest}` : null;
}

/** The key back in the digest-only form, or null when it stays as it is. */
function digestOnly(row: Row): string | null {
  const digest = digestOf(row);
  return row.idempotency_key === `${PREFIX}${timePart(Number(row.occurred_at))}:${digest}` ? PREFIX + digest : null;
}

/** Every event whose key begins with `import:`, by id, a batch at a time; each key `change` gives is written. */
async function rewrite(db: Kysely<any>, change: (row: Row) => string | null): Promise<void> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = (await db
      .selectFrom('events')
      .select(['id', 'program_id', 'kind', 'case_id', 'value', 'occurred_at', 'attributes', 'idempotency_key'])
      .where('idempotency_key', 'like', `${PREFIX}%`)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as Row[];
    if (rows.length === 0) return;
    // A transaction a batch where the migrator gives none (SQLite): else each row is a durable
    // commit of its own, an fsync a row. Stopped half way, a run again finds the rewritten keys
    // no longer in the old form and leaves them.
    const update = async (trx: Kysely<any>) => {
      for (const row of rows) {
        const key = change(row);
        if (key !== null)
          await trx.updateTable('events').set({ idempotency_key: key }).where('id', '=', row.id).execute();
      }
    };
    if (db.isTransaction) await update(db);
    else await db.transaction().execute(update);
    after = Number(rows[rows.length - 1].id);
  }
}

/**
 * The unique index is dropped while keys are rewritten and built again after: each rewritten key
 * moves from a random place in it to another, and building it once, sorted, costs far less than
 * that many moves. Building it checks again that no program has a key twice.
 */
async function withoutKeyIndex(db: Kysely<any>, change: () => Promise<void>): Promise<void> {
  await db.schema.dropIndex('events_program_idempotency').ifExists().execute();
  await change();
  await db.schema
    .createIndex('events_program_idempotency')
    .on('events')
    .columns(['program_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await withoutKeyIndex(db, () => rewrite(db, timeFirst));
}

export async function down(db: Kysely<any>): Promise<void> {
  await withoutKeyIndex(db, () => rewrite(db, digestOnly));
}
