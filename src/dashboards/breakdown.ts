/**
 * Dashboard.breakdown: one row per value of a dimension (or per program) in a dashboard's scope.
 * Rows are ranked on their totals over the range; series are read only for the rows answered,
 * and only when asked for.
 */
import type { Context } from '../context.js';

/** What a breakdown reads with: no caller (a live view is computed once for all its subscribers). */
type Reader = Pick<Context, 'services' | 'loaders'>;
import type { Aggregate } from '../kpis/aggregate.js';
import { NO_ANSWERS } from '../kpis/row-answers.js';
import { breakdown, breakdownSeries } from '../kpis/filtered.js';
import { type KpiInputs, kpi, type KpiKey } from '../kpis/registry.js';
import { badInput } from '../schema/errors.js';
import { declaresDimension } from '../scope/scope.js';
import { type DashboardScope, seriesSpans } from './dashboard.service.js';

export const MAX_BREAKDOWN_ROWS = 1_000;

export interface BreakdownArgs {
  by: string;
  orderBy: KpiKey | null;
  descending: boolean;
  limit: number;
}

export interface BreakdownRow {
  value: string | null;
  aggregate: Aggregate;
  series(): Promise<{ start: number; aggregate: KpiInputs }[]>;
}

export async function checkBreakdownArgs(ctx: Reader, scope: DashboardScope, args: BreakdownArgs): Promise<void> {
  if (!Number.isInteger(args.limit) || args.limit < 1 || args.limit > MAX_BREAKDOWN_ROWS)
    throw badInput('limit', `must be between 1 and ${MAX_BREAKDOWN_ROWS}`);
  if (args.by !== 'program' && !(await declaresDimension(ctx, scope, args.by))) {
    const where = scope.programId !== null ? `program "${scope.programId}"` : 'any program in scope';
    throw badInput('by', `must be "program" or a dimension of ${where} (got "${args.by}")`);
  }
}

export async function dashboardBreakdown(
  ctx: Reader,
  scope: DashboardScope,
  args: BreakdownArgs,
): Promise<BreakdownRow[]> {
  await checkBreakdownArgs(ctx, scope, args);
  if (!scope.range) return [];
  const { db } = ctx.services;
  const values = new Map<string, string[]>();
  if (args.by !== 'program') {
    const dimensions = await ctx.loaders.dimensions.loadMany(scope.programs.map((p) => p.id));
    scope.programs.forEach((p, i) => {
      const found = dimensions[i];
      if (found instanceof Error) throw found;
      values.set(p.id, found.find((d) => d.key === args.by)?.values ?? []);
    });
  }
  const valuesOf = (id: string) => values.get(id) ?? [];
  const totals = await breakdown(
    db,
    scope.programs,
    scope.filter,
    args.by,
    valuesOf,
    [scope.range],
    ctx.services.now(),
  );
  const ranked = rank(
    totals.map((t) => ({ value: t.value, aggregate: t.aggregates[0] })),
    args,
  ).slice(0, args.limit);

  // One read of every answered row's series, made when the first row asks for its own.
  let seriesOfAll:
    | Promise<{ buckets: ReturnType<typeof seriesSpans>; rows: Map<string | null, KpiInputs[]> }>
    | undefined;
  const readSeries = () =>
    (seriesOfAll ??= (async () => {
      const buckets = seriesSpans(scope);
      const chosen = new Set(ranked.map((r) => r.value));
      // The null row is its program's total less every value, so it needs all of them.
      const subset = (id: string) => (chosen.has(null) ? valuesOf(id) : valuesOf(id).filter((v) => chosen.has(v)));
      const programs = args.by === 'program' ? scope.programs.filter((p) => chosen.has(p.id)) : scope.programs;
      const parts = await breakdownSeries(
        db,
        programs,
        scope.filter,
        args.by,
        subset,
        buckets.map((b) => b.span),
        ctx.services.now(),
        chosen.has(null),
      );
      return { buckets, rows: new Map(parts.map((p) => [p.value, p.points])) };
    })());
  return ranked.map((row) => ({
    ...row,
    async series() {
      const { buckets, rows } = await readSeries();
      const aggregates = rows.get(row.value);
      return buckets.map((b, i) => ({ start: b.start, aggregate: aggregates?.[i] ?? NO_ANSWERS }));
    },
  }));
}

/**
 * By the KPI (descending unless asked otherwise; rows whose KPI is null last), ties by value; by
 * value when no KPI is named. The row of events without the attribute comes last among equals.
 */
function rank<R extends { value: string | null; aggregate: Aggregate }>(rows: R[], args: BreakdownArgs): R[] {
  const byValue = (a: R, b: R) =>
    a.value === b.value ? 0 : a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : 1;
  if (args.orderBy === null) return [...rows].sort(byValue);
  const definition = kpi(args.orderBy);
  const keyed = rows.map((row) => ({ row, k: definition.compute(row.aggregate) }));
  keyed.sort((a, b) => {
    if (a.k === null || b.k === null) return a.k === b.k ? byValue(a.row, b.row) : a.k === null ? 1 : -1;
    if (a.k !== b.k) return args.descending ? b.k - a.k : a.k - b.k;
    return byValue(a.row, b.row);
  });
  return keyed.map((k) => k.row);
}
