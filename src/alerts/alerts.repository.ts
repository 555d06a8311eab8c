/** Rules, alerts and alert history. Plain functions over `db` or an open transaction. */
import type { AlertHistoryTable, AlertRuleTable, AlertTable, Executor } from '../db/types.js';
import type { KpiKey } from '../kpis/registry.js';
import type { AlertState, Comparator, Severity } from './evaluate.js';

/** A stored rule, with its enums narrowed and `enabled` as a boolean. */
export type AlertRule = Omit<AlertRuleTable, 'kpi' | 'comparator' | 'severity' | 'enabled' | 'kind'> & {
  kpi: KpiKey;
  comparator: Comparator;
  severity: Severity;
  enabled: boolean;
  kind: AlertRuleKind;
};

/** A stored alert; open_key stays inside the repository (it follows from state). */
export type Alert = Omit<AlertTable, 'state' | 'open_key'> & { state: AlertState };

/** Why a history entry was written. */
export const ALERT_CAUSES = [
  'EVALUATION',
  'ACKNOWLEDGED',
  'RULE_DISABLED',
  'RULE_DELETED',
  /** A TARGET_AT_RISK alert's target was deleted, or its period ended (issue 20). */
  'TARGET_DELETED',
  'TARGET_ENDED',
] as const;
export type AlertCause = (typeof ALERT_CAUSES)[number];
export type AlertRuleKind = 'THRESHOLD' | 'TARGET_AT_RISK';

export type AlertHistoryEntry = Omit<AlertHistoryTable, 'state' | 'cause'> & { state: AlertState; cause: AlertCause };

const num = (v: unknown) => Number(v);
const numOrNull = (v: unknown) => (v == null ? null : Number(v));

// Rows narrowed to their typed shape: enums from text, the enabled flag from its integer, numbers as numbers.
function toRule(row: AlertRuleTable): AlertRule {
  return {
    ...row,
    kpi: row.kpi as KpiKey,
    comparator: row.comparator as Comparator,
    severity: row.severity as Severity,
    kind: (row.kind ?? 'THRESHOLD') as AlertRuleKind,
    threshold: num(row.threshold),
    window_days: num(row.window_days),
    for_minutes: num(row.for_minutes),
    recovery_threshold: numOrNull(row.recovery_threshold),
    enabled: num(row.enabled) === 1,
    created_at: num(row.created_at),
    updated_at: num(row.updated_at),
    deleted_at: numOrNull(row.deleted_at),
  };
}

function toAlert(row: AlertTable): Alert {
  return {
    id: row.id,
    rule_id: row.rule_id,
    program_id: row.program_id,
    state: row.state as AlertState,
    value: num(row.value),
    threshold: num(row.threshold),
    started_at: num(row.started_at),
    fired_at: numOrNull(row.fired_at),
    resolved_at: numOrNull(row.resolved_at),
    acknowledged_at: numOrNull(row.acknowledged_at),
    acknowledged_by: row.acknowledged_by,
    version: num(row.version),
    group_key: row.group_key ?? '',
  };
}

/** Alert.groupValue: the group key, null for an ungrouped rule ('' in the one-open-alert index). */
/**
 * A TARGET_AT_RISK alert is one per target: its group_key is `target:` and the target's id, which
 * no dimension value can be mistaken for (the groupValue of such an alert is null).
 */
export const targetGroupKey = (targetId: string) => `target:${targetId}`;
export const targetIdOf = (alert: Pick<Alert, 'group_key'>): string | null =>
  alert.group_key.startsWith('target:') ? alert.group_key.slice('target:'.length) : null;

export const groupValueOf = (alert: Pick<Alert, 'group_key'>): string | null =>
  alert.group_key === '' || targetIdOf(alert) !== null ? null : alert.group_key;

function toHistory(row: AlertHistoryTable): AlertHistoryEntry {
  return {
    ...row,
    state: row.state as AlertState,
    cause: row.cause as AlertCause,
    version: num(row.version),
    value: num(row.value),
    threshold: num(row.threshold),
    at: num(row.at),
  };
}

// ---- rules

export type NewRule = Omit<AlertRule, 'deleted_at'>;

export async function insertRule(db: Executor, rule: NewRule): Promise<AlertRule> {
  await db
    .insertInto('alert_rules')
    .values({ ...rule, enabled: rule.enabled ? 1 : 0, deleted_at: null })
    .execute();
  return { ...rule, deleted_at: null };
}

export type RuleChanges = Partial<Omit<NewRule, 'id' | 'program_id' | 'created_at'>>;

/** Changes a live rule; null when it does not exist or was deleted. */
export async function updateRule(db: Executor, id: string, changes: RuleChanges): Promise<AlertRule | null> {
  const { enabled, ...rest } = changes;
  const values = { ...rest, ...(enabled === undefined ? {} : { enabled: enabled ? 1 : 0 }) };
  const result = await db
    .updateTable('alert_rules')
    .set(values)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return null;
  return liveRuleById(db, id);
}

export async function softDeleteRule(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('alert_rules')
    .set({ deleted_at: now, updated_at: now, enabled: 0 })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function liveRuleById(db: Executor, id: string): Promise<AlertRule | null> {
  const row = await db
    .selectFrom('alert_rules')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ? toRule(row) : null;
}

/** Rules by id, deleted ones included: an alert keeps showing the rule that raised it. */
export async function rulesByIds(db: Executor, ids: readonly string[]): Promise<AlertRule[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('alert_rules').selectAll().where('id', 'in', ids).execute()).map(toRule);
}

/**
 * Live rules that apply to `programIds` (their own and the every-program ones). `programIds`
 * null: every rule.
 */
export async function listRules(
  db: Executor,
  programIds: readonly string[] | null,
  options: { enabledOnly?: boolean } = {},
): Promise<AlertRule[]> {
  let query = db.selectFrom('alert_rules').selectAll().where('deleted_at', 'is', null);
  if (options.enabledOnly) query = query.where('enabled', '=', 1);
  if (programIds !== null) {
    query = query.where((eb) =>
      programIds.length === 0
        ? eb('program_id', 'is', null)
        : eb.or([eb('program_id', 'is', null), eb('program_id', 'in', programIds)]),
    );
  }
  return (await query.orderBy('created_at').orderBy('id').execute()).map(toRule);
}

// ---- alerts

export async function alertById(db: Executor, id: string): Promise<Alert | null> {
  const row = await db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toAlert(row) : null;
}

export interface AlertFilter {
  /** null: every program. */
  programIds: readonly string[] | null;
  states?: readonly AlertState[] | null;
  ruleIds?: readonly string[] | null;
  /** Alerts of these group keys only (a TARGET_AT_RISK alert's is targetGroupKey). */
  groupKeys?: readonly string[] | null;
  limit?: number;
}

/** Newest first. */
export async function listAlerts(db: Executor, filter: AlertFilter): Promise<Alert[]> {
  if (filter.programIds?.length === 0 || filter.states?.length === 0 || filter.ruleIds?.length === 0) return [];
  let query = db.selectFrom('alerts').selectAll();
  if (filter.programIds) query = query.where('program_id', 'in', filter.programIds);
  if (filter.states) query = query.where('state', 'in', filter.states);
  if (filter.ruleIds) query = query.where('rule_id', 'in', filter.ruleIds);
  if (filter.groupKeys) query = query.where('group_key', 'in', filter.groupKeys);
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  const rows = await query.orderBy('started_at', 'desc').orderBy('id').execute();
  return rows.map(toAlert);
}

/** Alerts with a history entry at or after `since` (resynchronising live subscribers after an outage). */
export async function alertsChangedSince(db: Executor, since: number): Promise<Alert[]> {
  const rows = await db
    .selectFrom('alerts')
    .selectAll()
    .where('id', 'in', (eb) => eb.selectFrom('alert_history').select('alert_id').where('at', '>=', since))
    .orderBy('started_at')
    .orderBy('id')
    .execute();
  return rows.map(toAlert);
}

/** Open (PENDING or FIRING) alerts. */
export const openAlerts = (db: Executor, filter: Omit<AlertFilter, 'states'>) =>
  listAlerts(db, { ...filter, states: ['PENDING', 'FIRING'] });

export async function insertAlert(db: Executor, alert: Alert): Promise<void> {
  await db
    .insertInto('alerts')
    .values({ ...alert, open_key: alert.state === 'RESOLVED' ? null : 'open' })
    .execute();
}

/**
 * Writes `next` over the alert if it is still at `expectedVersion`; false when another writer got
 * there first (then nothing is written and the caller rolls back).
 */
export async function updateAlert(db: Executor, next: Alert, expectedVersion: number): Promise<boolean> {
  const { id, ...values } = next;
  const result = await db
    .updateTable('alerts')
    .set({ ...values, open_key: next.state === 'RESOLVED' ? null : 'open' })
    .where('id', '=', id)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---- history

export async function insertHistory(db: Executor, entry: AlertHistoryEntry): Promise<void> {
  await db.insertInto('alert_history').values(entry).execute();
}

/** Each alert's history, oldest first. */
export async function historyOf(db: Executor, alertIds: readonly string[]): Promise<AlertHistoryEntry[]> {
  if (alertIds.length === 0) return [];
  const rows = await db
    .selectFrom('alert_history')
    .selectAll()
    .where('alert_id', 'in', alertIds)
    .orderBy('alert_id')
    .orderBy('version')
    .execute();
  return rows.map(toHistory);
}
