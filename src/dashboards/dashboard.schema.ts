/** The Dashboard type and the dashboard query; the loading is in dashboard.service.ts. */
import type { KpiInputs } from '../kpis/registry.js';
import { GranularityEnum, KpiEnum, kpiFields, type KpiPoint, kpiPoint, kpiPointFields } from '../kpis/kpi.schema.js';
import type { KpiKey } from '../kpis/registry.js';
import { AttributeFilterInput, AttributeFilterRef } from '../scope/filter.schema.js';
import type { BreakdownRow } from './breakdown.js';
import { builder } from '../schema/builder.js';
import { dashboardId, loadDashboard, type DashboardView } from './dashboard.service.js';

const DashboardPoint = builder.objectRef<KpiPoint>('DashboardPoint').implement({
  description: 'One bucket of a dashboard series.',
  fields: (t) => ({
    start: t.expose('start', { type: 'DateTime' }),
    ...kpiPointFields(t),
  }),
});

const pointsOf = async (series: Promise<{ start: number; aggregate: KpiInputs }[]>) =>
  (await series).map((p) => kpiPoint(p.start, p.aggregate));

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
      resolve: (r) => pointsOf(r.series()),
    }),
  }),
});

export const DashboardRef = builder.objectRef<DashboardView>('Dashboard').implement({
  fields: (t) => ({
    id: t.id({
      description:
        "Stable for the same arguments and the caller's visible programs, so a client cache (Apollo, urql) merges live pushes into the query's dashboard.",
      resolve: (d) => dashboardId(d.scope),
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
    series: t.field({ type: [DashboardPoint], resolve: (d) => pointsOf(d.series()) }),
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
