/** The one description of every table, as Kysely sees it. Instants are UTC epoch milliseconds. */
import type { Kysely, Transaction } from 'kysely';
import type { EventKind } from '../kpis/registry.js';

export type { EventKind };

export type Role = 'ADMIN' | 'INTEGRATION' | 'VIEWER';

export interface ProgramTable {
  id: string;
  name: string;
  timezone: string;
  created_at: number;
  /** The service standard in days (issue 20); null: none. */
  resolution_standard_days: number | null;
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
  /** The event's attributes as canonical JSON (keys sorted, see events/attributes.ts); null for none. */
  attributes: string | null;
}

/** A program's declared attribute (issue 18); never removed or renamed. */
export interface DimensionTable {
  program_id: string;
  dim_key: string;
  label: string;
  max_values: number;
  /** Distinct values in dimension_values, kept in the write transaction that adds one. */
  value_count: number;
  /** Order of declaration. */
  position: number;
  created_at: number;
}

/** Each distinct value a dimension has taken, once. */
export interface DimensionValueTable {
  program_id: string;
  dim_key: string;
  value: string;
  created_at: number;
}

/** One aggregate per program ('*': every program), level and bucket (see kpis/rollup-levels.ts). */
export interface RollupTable {
  program_id: string;
  level: string;
  bucket_start: number;
  res_count: number;
  /** Exact sums (kpis/exact-sum.ts): the parts of a floating-point expansion, float64 little-endian. */
  res_sum: Uint8Array;
  res_squares: Uint8Array;
  res_hist: Uint8Array;
  sat_count: number;
  sat_sum: Uint8Array;
  sat_squares: Uint8Array;
  sat_positive: number;
  conflicts: number;
  /** Resolution times within their program's service standard, and those judged against one. */
  res_within: number;
  res_judged: number;
  /**
   * All a series point reads of the row (kpis/row-answers.ts): its bucket start and counts, and
   * the KPIs its aggregate answers that the counts do not (mean and percentiles of resolution days,
   * mean satisfaction). Null on hour rows, which are read merged into longer spans.
   */
  answers: Uint8Array | null;
}

/** One row: the shape the rollups were built for (kpis/rollups-rebuild.ts). */
export interface RollupStateTable {
  id: number;
  version: number;
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
  /** The filter as canonical JSON (see kpis/filter.ts); '' for none. */
  filter: string;
}

/** An alert rule; program_id null judges every program on its own. Deleted softly (deleted_at). */
export interface AlertRuleTable {
  id: string;
  name: string;
  program_id: string | null;
  kpi: string;
  comparator: string;
  threshold: number;
  window_days: number;
  severity: string;
  for_minutes: number;
  recovery_threshold: number | null;
  /** 1 or 0. */
  enabled: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** The filter as canonical JSON; '' for none. */
  filter: string;
  /** A dimension judged value by value; null: not grouped. */
  group_by: string | null;
  /** THRESHOLD or TARGET_AT_RISK (issue 20). */
  kind: string;
}

/** One alert of a rule for a program; open_key is 'open' while PENDING or FIRING, else null. */
export interface AlertTable {
  id: string;
  rule_id: string;
  program_id: string;
  state: string;
  value: number;
  threshold: number;
  started_at: number;
  fired_at: number | null;
  resolved_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  open_key: string | null;
  version: number;
  /** The groupBy value this alert is about; '' for an ungrouped rule. */
  group_key: string;
}

export interface AlertHistoryTable {
  alert_id: string;
  version: number;
  state: string;
  value: number;
  threshold: number;
  at: number;
  cause: string;
  actor: string | null;
}

export interface WebhookTable {
  id: string;
  url: string;
  secret: string;
  program_id: string | null;
  min_severity: string;
  created_at: number;
  deleted_at: number | null;
}

/** The outbox: one row per transition and webhook, written in the transition's transaction. */
export interface NotificationTable {
  id: string;
  event_id: string;
  webhook_id: string;
  alert_id: string;
  body: string;
  state: string;
  attempts: number;
  next_attempt_at: number;
  leased_until: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface NotificationAttemptTable {
  notification_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** One successful admin action; see migrations/2026-11-28-07-audit-log.ts. */
export interface AuditLogTable {
  id: string;
  at: number;
  actor: string;
  action: string;
  target_id: string | null;
  details: string;
}

/** Secrets the instances of one database share (migrations/2026-12-07-19-…): 'cursor' signs drill-down cursors. */
export interface ServerSecretTable {
  name: string;
  secret: string;
}

/** A change marked in a program at an instant (issue 21). */
export interface AnnotationTable {
  id: string;
  program_id: string;
  at: number;
  title: string;
  description: string | null;
  created_at: number;
}

export interface Database {
  programs: ProgramTable;
  api_keys: ApiKeyTable;
  events: EventTable;
  dimensions: DimensionTable;
  dimension_values: DimensionValueTable;
  rollups: RollupTable;
  rollup_state: RollupStateTable;
  alert_rules: AlertRuleTable;
  alerts: AlertTable;
  alert_history: AlertHistoryTable;
  webhooks: WebhookTable;
  notifications: NotificationTable;
  notification_attempts: NotificationAttemptTable;
  targets: TargetTable;
  audit_log: AuditLogTable;
  server_secrets: ServerSecretTable;
  annotations: AnnotationTable;
}

export type Db = Kysely<Database>;
/** A repository function takes either the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
