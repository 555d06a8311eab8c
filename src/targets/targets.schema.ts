/** Targets and scorecards: setTarget, deleteTarget, targets, scorecard, fiscalScorecard, Dashboard.targets. */
import type { Context } from '../context.js';
import { DashboardRef } from '../dashboards/dashboard.schema.js';
import { KpiEnum } from '../kpis/kpi.schema.js';
import { kpi, type KpiKey } from '../kpis/registry.js';
import type { Interval } from '../kpis/time.js';
import { visibleOwned, visibleProgram } from '../programs/program-access.js';
import { builder } from '../schema/builder.js';
import { AttributeFilterInput, AttributeFilterRef } from '../scope/filter.schema.js';
import { checkedScope, type ScopeArgs } from '../scope/scope.js';
import { badInput } from '../schema/errors.js';
import type { Forecast } from '../forecasts/forecast.js';
import { fiscalInterval, MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, previousFiscalPeriod } from './fiscal-periods.js';
import {
  buildScorecard,
  periodBefore,
  TARGET_STATUSES,
  TRENDS,
  type Scorecard,
  type ScorecardRow,
} from './scorecard.js';
import {
  deleteTargetById,
  targetById,
  targetsForPeriod,
  targetsOfProgram,
  upsertTarget,
  type Target,
} from './targets.repository.js';

const TargetStatusEnum = builder.enumType('TargetStatus', { values: TARGET_STATUSES });
const TrendEnum = builder.enumType('Trend', { values: TRENDS });

const TargetRef = builder.objectRef<Target>('Target').implement({
  description: "A program's goal for one KPI over exactly [from, to).",
  authScopes: (target) => ({ program: target.program_id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    programId: t.id({ resolve: (target) => target.program_id }),
    kpi: t.field({ type: KpiEnum, resolve: (target) => target.kpi }),
    from: t.field({ type: 'DateTime', resolve: (target) => target.starts_at }),
    to: t.field({ type: 'DateTime', resolve: (target) => target.ends_at }),
    value: t.exposeFloat('value'),
    filter: t.field({
      type: [AttributeFilterRef],
      description: 'The filtered scope the target is set for (empty: the whole program).',
      resolve: (target) => target.filter,
    }),
  }),
});

const ForecastRef = builder.objectRef<Forecast>('Forecast').implement({
  description:
    'Where a KPI is projected to end a running period, learned from the program\'s own history (README "Forecasts").',
  fields: (t) => ({
    value: t.exposeFloat('value', { description: 'Projected value at the end of the period.' }),
    low: t.exposeFloat('low', { description: '80% prediction interval: low end.' }),
    high: t.exposeFloat('high', { description: '80% prediction interval: high end.' }),
    meetsTargetProbability: t.exposeFloat('meetsTargetProbability', {
      nullable: true,
      description: 'Probability that the period ends meeting its target; null without a target.',
    }),
  }),
});

const ScorecardRowRef = builder.objectRef<ScorecardRow>('ScorecardRow').implement({
  fields: (t) => ({
    kpi: t.field({ type: KpiEnum, resolve: (row) => row.kpi }),
    target: t.exposeFloat('target', {
      nullable: true,
      description: 'The target set for exactly this period, else null.',
    }),
    actual: t.exposeFloat('actual', {
      nullable: true,
      description: 'The KPI over [from, to) (so far, for a running period).',
    }),
    previous: t.exposeFloat('previous', {
      nullable: true,
      description: 'The same KPI over the period of equal length just before from.',
    }),
    status: t.field({ type: TargetStatusEnum, resolve: (row) => row.status }),
    trend: t.field({ type: TrendEnum, resolve: (row) => row.trend }),
    forecast: t.field({
      type: ForecastRef,
      nullable: true,
      description:
        'Where the KPI is projected to end the period; null once the period has ended or with too little data.',
      resolve: (row) => row.forecast,
    }),
  }),
});

const ScorecardRef = builder.objectRef<Scorecard>('Scorecard').implement({
  authScopes: (card) => ({ program: card.programId }),
  fields: (t) => ({
    programId: t.id({ resolve: (card) => card.programId }),
    from: t.field({ type: 'DateTime', resolve: (card) => card.period.start }),
    to: t.field({ type: 'DateTime', resolve: (card) => card.period.end }),
    previousFrom: t.field({
      type: 'DateTime',
      description: 'Start of the period `previous` covers.',
      resolve: (card) => card.previousPeriod.start,
    }),
    previousTo: t.field({
      type: 'DateTime',
      description: 'End (exclusive) of the period `previous` covers.',
      resolve: (card) => card.previousPeriod.end,
    }),
    running: t.boolean({
      description: 'True while the period has not ended: statuses are then ON_TRACK or AT_RISK.',
      resolve: (card) => card.running,
    }),
    rows: t.field({
      type: [ScorecardRowRef],
      description: "One row per Kpi, in the enum's order.",
      resolve: (card) => card.rows,
    }),
  }),
});

const SetTargetInput = builder.inputType('SetTargetInput', {
  fields: (t) => ({
    programId: t.id({ required: true }),
    kpi: t.field({ type: KpiEnum, required: true }),
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true }),
    value: t.float({ required: true }),
    filter: t.field({ type: [AttributeFilterInput], required: false }),
  }),
});

function checkPeriod(from: number, to: number): Interval {
  if (from >= to) throw badInput('from', 'must be before to');
  return { start: from, end: to };
}

/** A target's value must be one the KPI can take, as the registry's range says. */
function checkTargetValue(key: KpiKey, value: number): number {
  if (!Number.isFinite(value)) throw badInput('value', 'must be a finite number');
  const { range } = kpi(key);
  if (value < range.min || value > range.max) {
    const rule =
      range.max === Number.MAX_SAFE_INTEGER ? `must not be negative` : `must be between ${range.min} and ${range.max}`;
    throw badInput('value', `${rule} for ${key}`);
  }
  return value;
}

/** The one program of a target or scorecard, and its filter, checked (scope/scope.ts). */
async function scopeFor(ctx: Context, programId: string, filter: ScopeArgs['filter']) {
  const scope = await checkedScope(ctx, { programId, filter });
  return { program: scope.programs[0], filter: scope.filter };
}

const readProgramScope = (programId: string | number) => ({ $all: { read: true, program: String(programId) } });

builder.queryFields((t) => ({
  targets: t.field({
    type: [TargetRef],
    description: "The program's targets, oldest period first, then in the Kpi enum's order.",
    args: { programId: t.arg.id({ required: true }) },
    authScopes: (_, args) => readProgramScope(args.programId),
    resolve: async (_, args, ctx) => {
      const program = await visibleProgram(ctx, String(args.programId));
      return targetsOfProgram(ctx.services.db, program.id);
    },
  }),
  scorecard: t.field({
    type: ScorecardRef,
    description:
      'Target, actual, previous (the period of equal length before), status and trend of every KPI over [from, to).',
    args: {
      programId: t.arg.id({ required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      filter: t.arg({ type: [AttributeFilterInput], required: false }),
    },
    authScopes: (_, args) => readProgramScope(args.programId),
    resolve: async (_, args, ctx) => {
      const period = checkPeriod(args.from, args.to);
      const { program, filter } = await scopeFor(ctx, String(args.programId), args.filter);
      return buildScorecard(ctx, program, period, periodBefore(period), filter);
    },
  }),
  fiscalScorecard: t.field({
    type: ScorecardRef,
    description:
      'The scorecard of a federal fiscal year (October 1 to October 1; FY2026 starts 2025-10-01) or one of its quarters, ' +
      "cut at midnight in the program's time zone. `previous` covers the fiscal year or quarter before.",
    args: {
      programId: t.arg.id({ required: true }),
      fiscalYear: t.arg.int({ required: true }),
      quarter: t.arg.int({
        required: false,
        description: '1 (October–December) to 4 (July–September); omitted for the whole year.',
      }),
      filter: t.arg({ type: [AttributeFilterInput], required: false }),
    },
    authScopes: (_, args) => readProgramScope(args.programId),
    resolve: async (_, args, ctx) => {
      if (args.fiscalYear < MIN_FISCAL_YEAR || args.fiscalYear > MAX_FISCAL_YEAR) {
        throw badInput('fiscalYear', `must be between ${MIN_FISCAL_YEAR} and ${MAX_FISCAL_YEAR}`);
      }
      const quarter = args.quarter ?? null;
      if (quarter !== null && (quarter < 1 || quarter > 4)) throw badInput('quarter', 'must be 1, 2, 3 or 4');
      const { program, filter } = await scopeFor(ctx, String(args.programId), args.filter);
      const fiscal = { fiscalYear: args.fiscalYear, quarter };
      return buildScorecard(
        ctx,
        program,
        fiscalInterval(fiscal, program.timezone),
        fiscalInterval(previousFiscalPeriod(fiscal), program.timezone),
        filter,
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  setTarget: t.field({
    type: TargetRef,
    description:
      'Sets the target of one KPI for one program over exactly [from, to); setting it again replaces the value.',
    args: { input: t.arg({ type: SetTargetInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      const { program, filter } = await scopeFor(ctx, String(input.programId), input.filter);
      const period = checkPeriod(input.from, input.to);
      const key = input.kpi as KpiKey;
      const value = checkTargetValue(key, input.value);
      return upsertTarget(
        ctx.services.db,
        { programId: program.id, kpi: key, period, value, filter },
        ctx.services.now(),
      );
    },
  }),
  deleteTarget: t.field({
    type: 'Boolean',
    description:
      'Deletes a target; its scorecard rows become NO_TARGET and its open TARGET_AT_RISK alerts resolve (cause TARGET_DELETED).',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      const target = visibleOwned(
        ctx,
        'target',
        String(id),
        await targetById(ctx.services.db, String(id)),
        (found) => found.program_id,
      );
      // Its open at-risk alerts resolve in the same transaction (cause TARGET_DELETED).
      return ctx.services.alerts.writer.retireTarget(
        target.id,
        (trx) => deleteTargetById(trx, target.id),
        ctx.services.now(),
      );
    },
  }),
}));

builder.objectField(DashboardRef, 'targets', (t) =>
  t.field({
    type: [TargetRef],
    description:
      "Targets set for exactly this dashboard's [from, to), for its program (or each program it spans); empty when a bound is open.",
    resolve: (dashboard, _, ctx) => {
      const { from, to, programs, filter } = dashboard.scope;
      if (from === null || to === null) return [];
      return targetsForPeriod(
        ctx.services.db,
        programs.map((p) => p.id),
        { start: from, end: to },
        filter,
      );
    },
  }),
);
