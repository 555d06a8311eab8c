/** The audit log: written once per successful admin action, read newest first by admins. */
import { randomBytes } from 'node:crypto';
import type { AuditLogTable, Executor } from '../db/types.js';

export type AuditEntry = AuditLogTable;

let sequence = 0;

/** Ids sort in writing order: the instant, then this process's sequence (ties in one millisecond). */
function auditId(at: number): string {
  sequence = (sequence + 1) % 1e12;
  return `${String(at).padStart(15, '0')}.${String(sequence).padStart(12, '0')}.${randomBytes(4).toString('hex')}`;
}

export async function insertAuditEntry(db: Executor, entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry> {
  const row = { id: auditId(entry.at), ...entry };
  await db.insertInto('audit_log').values(row).execute();
  return row;
}

export interface AuditFilter {
  limit: number;
  action: string | null;
  actor: string | null;
  /** Only entries written before this instant (exclusive): to page back in time. */
  before: number | null;
}

export async function listAuditEntries(db: Executor, filter: AuditFilter): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (filter.action !== null) query = query.where('action', '=', filter.action);
  if (filter.actor !== null) query = query.where('actor', '=', filter.actor);
  if (filter.before !== null) query = query.where('at', '<', filter.before);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map((row) => ({ ...row, at: Number(row.at) }));
}
