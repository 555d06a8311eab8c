/** Targets: one value per program, KPI and exact period; setting the same period again replaces it. */
import { randomUUID } from 'node:crypto';
import type { Executor, TargetTable } from '../db/types.js';
import { KPI_KEYS, type KpiKey } from '../kpis/registry.js';
import type { Interval } from '../kpis/time.js';
import { type AttributeFilter, filterKey, parseFilterKey } from '../scope/filter.js';

export interface Target {
  id: string;
  program_id: string;
  kpi: KpiKey;
  starts_at: number;
  ends_at: number;
  value: number;
  /** The filtered scope it is set for (issue 18); empty: the whole program. */
  filter: AttributeFilter[];
}

// pg returns bigint columns as strings, so every instant and number read back goes through Number().
const toTarget = (row: Pick<TargetTable, keyof Target>): Target => ({
  id: row.id,
  program_id: row.program_id,
  kpi: row.kpi as KpiKey,
  starts_at: Number(row.starts_at),
  ends_at: Number(row.ends_at),
  value: Number(row.value),
  filter: parseFilterKey(row.filter),
});

const COLUMNS = ['id', 'program_id', 'kpi', 'starts_at', 'ends_at', 'value', 'filter'] as const;

/** Oldest period first, then in the Kpi enum's order. */
const byPeriodThenKpi = (a: Target, b: Target) =>
  a.starts_at - b.starts_at || a.ends_at - b.ends_at || KPI_KEYS.indexOf(a.kpi) - KPI_KEYS.indexOf(b.kpi);

/** Inserts the target, or replaces the value of the one already set for that program, KPI and period. */
export async function upsertTarget(
  db: Executor,
  input: { programId: string; kpi: KpiKey; period: Interval; value: number; filter: readonly AttributeFilter[] },
  now: number,
): Promise<Target> {
  const row = await db
    .insertInto('targets')
    .values({
      id: randomUUID(),
      program_id: input.programId,
      kpi: input.kpi,
      starts_at: input.period.start,
      ends_at: input.period.end,
      value: input.value,
      created_at: now,
      updated_at: now,
      filter: filterKey(input.filter),
    })
    .onConflict((oc) =>
      oc
        .columns(['program_id', 'kpi', 'starts_at', 'ends_at', 'filter'])
        .doUpdateSet({ value: input.value, updated_at: now }),
    )
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toTarget(row);
}

export async function targetById(db: Executor, id: string): Promise<Target | undefined> {
  const row = await db.selectFrom('targets').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toTarget(row);
}

export async function deleteTargetById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('targets').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function targetsOfProgram(db: Executor, programId: string): Promise<Target[]> {
  const rows = await db.selectFrom('targets').select(COLUMNS).where('program_id', '=', programId).execute();
  return rows.map(toTarget).sort(byPeriodThenKpi);
}

/** The targets set for exactly `period` and exactly `filter` (in normal form), for each of `programIds`. */
export async function targetsForPeriod(
  db: Executor,
  programIds: readonly string[],
  period: Interval,
  filter: readonly AttributeFilter[] = [],
): Promise<Target[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .selectFrom('targets')
    .select(COLUMNS)
    .where('program_id', 'in', programIds)
    .where('starts_at', '=', period.start)
    .where('ends_at', '=', period.end)
    .where('filter', '=', filterKey(filter))
    .execute();
  return rows.map(toTarget).sort((a, b) => a.program_id.localeCompare(b.program_id) || byPeriodThenKpi(a, b));
}

/** The targets of `kpi` whose period holds `now`, for each of `programIds` (TARGET_AT_RISK rules). */
export async function runningTargets(
  db: Executor,
  programIds: readonly string[],
  kpi: KpiKey,
  now: number,
): Promise<Target[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .selectFrom('targets')
    .select(COLUMNS)
    .where('program_id', 'in', programIds)
    .where('kpi', '=', kpi)
    .where('starts_at', '<=', now)
    .where('ends_at', '>', now)
    .execute();
  return rows.map(toTarget).sort(byPeriodThenKpi);
}

export async function targetsByIds(db: Executor, ids: readonly string[]): Promise<Target[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('targets').select(COLUMNS).where('id', 'in', ids).execute()).map(toTarget);
}
