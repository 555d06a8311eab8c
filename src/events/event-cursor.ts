/**
 * Drill-down cursors: opaque, and bound to the query they came from. A cursor is a position
 * (sort key, id) with an HMAC over that position and the query's arguments (all but `first` and
 * `after`), keyed by a secret every instance on the database shares (server_secrets). So a
 * cursor from another query, or an edited or made-up one, is refused as BAD_USER_INPUT, and
 * still works after a restart or on another instance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Executor } from '../db/types.js';
import { filterKey } from '../scope/filter.js';
import { badInput } from '../schema/errors.js';
import type { EventQuery, Position } from './event-list.js';

const MAC_BYTES = 16;
const secrets = new WeakMap<object, Promise<Buffer>>();

/** The database's cursor secret, read once per database handle. */
function secretOf(db: Executor): Promise<Buffer> {
  let secret = secrets.get(db);
  if (!secret) {
    secret = db
      .selectFrom('server_secrets')
      .select('secret')
      .where('name', '=', 'cursor')
      .executeTakeFirstOrThrow()
      .then((row) => Buffer.from(row.secret, 'base64url'));
    secrets.set(db, secret);
    secret.catch(() => secrets.delete(db));
  }
  return secret;
}

/** The arguments a cursor is bound to, in one text. */
function queryText(q: EventQuery): string {
  return JSON.stringify([
    q.program.id,
    q.from,
    q.to,
    q.kinds,
    filterKey(q.filter),
    q.caseId,
    q.includeRetracted,
    q.orderBy,
  ]);
}

function mac(secret: Buffer, query: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(query).update('\n').update(payload).digest().subarray(0, MAC_BYTES);
}

/** A function that makes the cursors of one query's edges. */
export async function cursorMaker(db: Executor, q: EventQuery): Promise<(position: Position) => string> {
  const secret = await secretOf(db);
  const query = queryText(q); // once for the page's edges, not once an edge
  return (position) => {
    const payload = JSON.stringify([position.key, position.id]);
    return `${Buffer.from(payload).toString('base64url')}.${mac(secret, query, payload).toString('base64url')}`;
  };
}

/** The position `cursor` stands for; BAD_USER_INPUT naming `field` unless it is one of this query's. */
export async function readCursor(db: Executor, q: EventQuery, cursor: string, field = 'after'): Promise<Position> {
  const refused = () =>
    badInput(field, 'is not a cursor of this query (a cursor works only with the arguments it came with)');
  const match = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
  if (!match) throw refused();
  const payload = Buffer.from(match[1], 'base64url').toString('utf8');
  const given = Buffer.from(match[2], 'base64url');
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(await secretOf(db), queryText(q), payload)))
    throw refused();
  const [key, id] = JSON.parse(payload) as [number | null, number];
  return { key, id };
}
