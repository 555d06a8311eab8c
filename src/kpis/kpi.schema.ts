/** The GraphQL face of the KPI registry and of time buckets. */
import { builder } from '../schema/builder.js';
import type { Aggregate } from './aggregate.js';
import { KPIS, KPI_KEYS, type KpiDefinition, type KpiKey } from './registry.js';
import { GRANULARITIES } from './time.js';

export const KpiEnum = builder.enumType('Kpi', { values: KPI_KEYS as KpiKey[] });
export const GranularityEnum = builder.enumType('Granularity', { values: GRANULARITIES });

const UNITS = { days: 'DAYS', score: 'SCORE', percent: 'PERCENT', count: 'COUNT' } as const;
const DIRECTIONS = { lower: 'LOWER', higher: 'HIGHER' } as const;
const KpiUnitEnum = builder.enumType('KpiUnit', { values: Object.values(UNITS) });
const KpiDirectionEnum = builder.enumType('KpiDirection', { values: Object.values(DIRECTIONS) });
const INTERVALS = { mean: 'MEAN', proportion: 'PROPORTION' } as const;
const KpiIntervalEnum = builder.enumType('KpiInterval', {
  description: "The 95% interval `impact` gives a change in a KPI: Welch's for a mean, Newcombe's for a proportion.",
  values: Object.values(INTERVALS),
});

/** The registry itself, so front ends label, format and judge KPIs from the same table as the server. */
const KpiDefinitionRef = builder.objectRef<KpiDefinition>('KpiDefinition').implement({
  description: 'One KPI of the registry: how to name it, its unit, and which way is better.',
  fields: (t) => ({
    key: t.field({ type: KpiEnum, resolve: (k) => k.key }),
    field: t.exposeString('field', { description: 'The Dashboard and DashboardPoint field that carries it.' }),
    label: t.exposeString('label'),
    unit: t.field({ type: KpiUnitEnum, resolve: (k) => UNITS[k.unit] }),
    better: t.field({
      type: KpiDirectionEnum,
      description: 'Which way is better.',
      resolve: (k) => DIRECTIONS[k.better],
    }),
    interval: t.field({
      type: KpiIntervalEnum,
      nullable: true,
      description: 'The interval `impact` gives a change in it; null for counts and percentiles, which get none.',
      resolve: (k) => (k.interval ? INTERVALS[k.interval.kind] : null),
    }),
  }),
});

builder.queryField('kpis', (t) =>
  t.field({
    type: [KpiDefinitionRef],
    description: "Every KPI, in the Kpi enum's order.",
    authScopes: { read: true },
    resolve: () => [...KPIS],
  }),
);

/**
 * Adds one field per registry KPI to an object whose aggregate `of(parent)` yields, so every
 * object that shows KPIs shows all of them, computed the same way.
 */
export function kpiFields<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<any>, Parent>,
  of: (parent: Parent) => Aggregate | Promise<Aggregate>,
) {
  // Synchronous when the aggregate is at hand (series points): a 365-point series has thousands of
  // KPI fields, and a promise for each would cost more than computing them.
  const from =
    <T>(compute: (a: Aggregate) => T) =>
    (p: Parent): T | Promise<T> => {
      const aggregate = of(p);
      return aggregate instanceof Promise ? aggregate.then(compute) : compute(aggregate);
    };
  const fields: Record<string, any> = {};
  for (const k of KPIS) {
    fields[k.field] =
      k.unit === 'count'
        ? t.int({ description: k.label, resolve: from((a) => k.compute(a) ?? 0) })
        : t.float({
            nullable: true,
            description: `${k.label} (${k.unit}); null without data.`,
            resolve: from((a) => k.compute(a)),
          });
  }
  fields.resolvedCases = t.int({ description: 'RESOLUTION_TIME events.', resolve: from((a) => a.resCount) });
  fields.satisfactionResponses = t.int({ description: 'SATISFACTION events.', resolve: from((a) => a.satCount) });
  return fields;
}
