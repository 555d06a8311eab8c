import type { Context } from '../context.js';
import type { Aggregate } from '../kpis/aggregate.js';
import { GranularityEnum, kpiFields } from '../kpis/kpi.schema.js';
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
}

const DashboardPoint = builder.objectRef<{ start: number; aggregate: Aggregate }>('DashboardPoint').implement({
  description: 'One bucket of a dashboard series.',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (p) => p.start }),
    ...kpiFields(t, (p) => p.aggregate),
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
  }),
});

/** The dashboard arguments, shared by the query and the live subscription. */
export const dashboardArgs = builder.args((t) => ({
  programId: t.id({ required: false }),
  from: t.field({ type: 'DateTime', required: false }),
  to: t.field({ type: 'DateTime', required: false }),
  granularity: t.field({ type: GranularityEnum, required: false, defaultValue: 'DAY' }),
  timezone: t.string({ required: false }),
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
