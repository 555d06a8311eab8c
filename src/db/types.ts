/** The one description of every table, as Kysely sees it. Instants are UTC epoch milliseconds. */
import type { Kysely, Transaction } from 'kysely';

export type Role = 'ADMIN' | 'INTEGRATION' | 'VIEWER';
export type EventKind = 'RESOLUTION_TIME' | 'SATISFACTION' | 'CONFLICT';

export interface ProgramTable {
  id: string;
  name: string;
  timezone: string;
  created_at: number;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: Role;
  /** JSON array of program ids, or null for every program. */
  program_ids: string | null;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export interface EventTable {
  id: number;
  program_id: string;
  kind: EventKind;
  case_id: string;
  value: number | null;
  reason: string | null;
  occurred_at: number;
  recorded_at: number;
  retracted_at: number | null;
  idempotency_key: string | null;
  /** Digest of what the caller sent, to tell a retry from a conflicting reuse of the key. */
  payload_hash: string | null;
  api_key_id: string | null;
}

/** One aggregate per program, level and bucket (see kpis/rollup-levels.ts). */
export interface RollupTable {
  program_id: string;
  level: string;
  bucket_start: number;
  res_count: number;
  res_sum: number;
  res_hist: Uint8Array;
  sat_count: number;
  sat_sum: number;
  sat_positive: number;
  conflicts: number;
}

/** One target per program, KPI and exact period [starts_at, ends_at). */
export interface TargetTable {
  id: string;
  program_id: string;
  /** A registry KPI key. */
  kpi: string;
  starts_at: number;
  ends_at: number;
  value: number;
  created_at: number;
  updated_at: number;
}

export interface Database {
  programs: ProgramTable;
  api_keys: ApiKeyTable;
  events: EventTable;
  rollups: RollupTable;
  targets: TargetTable;
}

export type Db = Kysely<Database>;
/** A repository function takes either the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
