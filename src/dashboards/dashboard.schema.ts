import type { Context } from '../context.js';
import type { Aggregate } from '../kpis/aggregate.js';
import { GranularityEnum, KpiEnum, kpiFields } from '../kpis/kpi.schema.js';
import type { KpiKey } from '../kpis/registry.js';
import { AttributeFilterInput, AttributeFilterRef } from '../scope/filter.schema.js';
import { type BreakdownArgs, type BreakdownRow, dashboardBreakdown } from './breakdown.js';
import { builder } from '../schema/builder.js';
import {
  dashboardId,
  dashboardSeries,
  dashboardTotals,
  resolveScope,
  type DashboardArgs,
  type DashboardScope,
} from './dashboard.service.js';

/** A dashboard being answered: its KPI blocks are read once, whichever fields ask for them. */
export class DashboardView {
  private totalsPromise?: Promise<Aggregate>;
  private seriesPromise?: Promise<{ start: number; aggregate: Aggregate }[]>;
  constructor(
    private readonly ctx: Context,
    readonly scope: DashboardScope,
  ) {}
  totals() {
    return (this.totalsPromise ??= dashboardTotals(this.ctx, this.scope));
  }
  series() {
    return (this.seriesPromise ??= dashboardSeries(this.ctx, this.scope));
  }
  /** Read with the view's own context: a live view is computed once for all its subscribers. */
  breakdown(args: BreakdownArgs) {
    const key = JSON.stringify(args);
    let rows = this.breakdowns.get(key);
    if (!rows) this.breakdowns.set(key, (rows = dashboardBreakdown(this.ctx, this.scope, args)));
    return rows;
  }
  private readonly breakdowns = new Map<string, Promise<BreakdownRow[]>>();
}

const DashboardPoint = builder.objectRef<{ start: number; aggregate: Aggregate }>('DashboardPoint').implement({
  description: 'One bucket of a dashboard series.',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    ...kpiFields(t, (p) => p.aggregate),
  }),
});

const BreakdownRowRef = builder.objectRef<BreakdownRow>('BreakdownRow').implement({
  description: "One value of a dimension (or one program) in a dashboard's scope: every KPI, and a series.",
  fields: (t) => ({
    value: t.string({
      nullable: true,
      description: 'The dimension\'s value (the program id for by: "program"); null for events without the attribute.',
      resolve: (r) => r.value,
    }),
    ...kpiFields(t, (r) => r.aggregate),
    series: t.field({
      type: [DashboardPoint],
      description: "The row's points, in the dashboard's buckets.",
      resolve: (r) => r.series(),
    }),
  }),
});

export const DashboardRef = builder.objectRef<DashboardView>('Dashboard').implement({
  fields: (t) => ({
    id: t.id({
      description:
        "Stable for the same arguments and the caller's visible programs, so a client cache (Apollo, urql) merges live pushes into the query's dashboard.",
      resolve: (d, _, ctx) => dashboardId(d.scope, ctx.caller),
    }),
    programId: t.id({
      nullable: true,
      description: 'Null when the dashboard spans every program the caller may see.',
      resolve: (d) => d.scope.programId,
    }),
    from: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.scope.from }),
    to: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.scope.to }),
    granularity: t.field({ type: GranularityEnum, resolve: (d) => d.scope.granularity }),
    timezone: t.string({ description: 'The zone the series buckets are cut in.', resolve: (d) => d.scope.timezone }),
    ...kpiFields(t, (d) => d.totals()),
    series: t.field({ type: [DashboardPoint], resolve: (d) => d.series() }),
    filter: t.field({
      type: [AttributeFilterRef],
      description: 'The filter the dashboard was asked with (empty: none).',
      resolve: (d) => d.scope.filter,
    }),
    breakdown: t.field({
      type: [BreakdownRowRef],
      description: 'One row per value of a dimension (or per program with by: "program"), in this dashboard\'s scope.',
      args: {
        by: t.arg.string({ required: true }),
        orderBy: t.arg({ type: KpiEnum, required: false }),
        descending: t.arg.boolean({ required: false, defaultValue: true }),
        limit: t.arg.int({ required: false, defaultValue: 50 }),
      },
      resolve: (d, args) =>
        d.breakdown({
          by: args.by,
          orderBy: (args.orderBy ?? null) as KpiKey | null,
          descending: args.descending ?? true,
          limit: args.limit ?? 50,
        }),
    }),
  }),
});

/** The dashboard arguments, shared by the query and the live subscription. */
export const dashboardArgs = builder.args((t) => ({
  programId: t.id({ required: false }),
  from: t.field({ type: 'DateTime', required: false }),
  to: t.field({ type: 'DateTime', required: false }),
  granularity: t.field({ type: GranularityEnum, required: false, defaultValue: 'DAY' }),
  timezone: t.string({ required: false }),
  filter: t.field({ type: [AttributeFilterInput], required: false }),
}));

export async function loadDashboard(ctx: Context, args: DashboardArgs): Promise<DashboardView> {
  return new DashboardView(ctx, await resolveScope(ctx, args, ctx.services.now()));
}

builder.queryFields((t) => ({
  dashboard: t.field({
    type: DashboardRef,
    description: 'KPIs of one program, or of every program the caller may see, over [from, to).',
    args: dashboardArgs,
    authScopes: { read: true },
    resolve: (_, args, ctx) =>
      loadDashboard(ctx, { ...args, programId: args.programId == null ? null : String(args.programId) }),
  }),
}));
