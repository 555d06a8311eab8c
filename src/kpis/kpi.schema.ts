/** The GraphQL face of the KPI registry and of time buckets. */
import { builder } from '../schema/builder.js';
import { KPIS, KPI_KEYS, type KpiDefinition, type KpiInputs, type KpiKey } from './registry.js';
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

/** Every KPI field an object that shows KPIs has: its name, GraphQL type, description and value. */
const KPI_FIELDS: readonly {
  field: string;
  int: boolean;
  description: string;
  value(a: KpiInputs): number | null;
}[] = [
  ...KPIS.map((k) =>
    k.unit === 'count'
      ? { field: k.field, int: true, description: k.label, value: (a: KpiInputs) => k.compute(a) ?? 0 }
      : {
          field: k.field,
          int: false,
          description: `${k.label} (${k.unit}); null without data.`,
          value: (a: KpiInputs) => k.compute(a),
        },
  ),
  { field: 'resolvedCases', int: true, description: 'RESOLUTION_TIME events.', value: (a) => a.resCount },
  { field: 'satisfactionResponses', int: true, description: 'SATISFACTION events.', value: (a) => a.satCount },
];

/**
 * Adds one field per registry KPI to an object whose aggregate `of(parent)` yields, so every
 * object that shows KPIs shows all of them, computed the same way.
 */
export function kpiFields<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<any>, Parent>,
  of: (parent: Parent) => KpiInputs | Promise<KpiInputs>,
) {
  // Synchronous when the aggregate is at hand: a promise for each field would cost more than computing it.
  const from =
    <T>(compute: (a: KpiInputs) => T) =>
    (p: Parent): T | Promise<T> => {
      const aggregate = of(p);
      return aggregate instanceof Promise ? aggregate.then(compute) : compute(aggregate);
    };
  const fields: Record<string, any> = {};
  for (const { field, int, description, value } of KPI_FIELDS)
    fields[field] = int
      ? t.int({ description, resolve: from(value) })
      : t.float({ nullable: true, description, resolve: from(value) });
  return fields;
}

/** A series point as its GraphQL type reads it: its start, and each KPI field as a property. */
export type KpiPoint = { readonly start: number } & { readonly [field: string]: number | null };

const AGGREGATE = Symbol('aggregate');

/** The KPI fields are getters: computed when a query reads them, and only those it selects. */
class Point {
  readonly [AGGREGATE]: KpiInputs;
  constructor(
    readonly start: number,
    aggregate: KpiInputs,
  ) {
    this[AGGREGATE] = aggregate;
  }
}
for (const { field, value } of KPI_FIELDS)
  Object.defineProperty(Point.prototype, field, {
    get(this: Point) {
      return value(this[AGGREGATE]);
    },
  });

export const kpiPoint = (start: number, aggregate: KpiInputs): KpiPoint => new Point(start, aggregate) as never;

/**
 * kpiFields for series points (kpiPoint), as fields without resolvers. A compiled query
 * (schema/compiled-execution.ts) reads such a field inline, where a resolver costs a call through
 * graphql-jit's machinery (closures, a response path, an arguments object) per field: a 365-point
 * series is 3,650 fields, a breakdown's series fifty times that.
 */
export function kpiPointFields(
  t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<any>, KpiPoint>,
) {
  const fields: Record<string, any> = {};
  for (const { field, int, description } of KPI_FIELDS)
    fields[field] = int ? t.exposeInt(field, { description }) : t.exposeFloat(field, { nullable: true, description });
  return fields;
}
