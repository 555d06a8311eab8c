/** The GraphQL face of the KPI registry and of time buckets. */
import { builder } from '../schema/builder.js';
import type { Aggregate } from './aggregate.js';
import { KPIS, KPI_KEYS, type KpiKey } from './registry.js';
import { GRANULARITIES } from './time.js';

export const KpiEnum = builder.enumType('Kpi', { values: KPI_KEYS as KpiKey[] });
export const GranularityEnum = builder.enumType('Granularity', { values: GRANULARITIES });

/**
 * Adds one field per registry KPI to an object whose aggregate `of(parent)` yields, so every
 * object that shows KPIs shows all of them, computed the same way.
 */
export function kpiFields<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<any>, Parent>,
  of: (parent: Parent) => Aggregate | Promise<Aggregate>,
) {
  const fields: Record<string, any> = {};
  for (const k of KPIS) {
    fields[k.field] =
      k.unit === 'count'
        ? t.int({ description: k.label, resolve: async (p: Parent) => (k.compute(await of(p)) ?? 0) })
        : t.float({ nullable: true, description: `${k.label} (${k.unit}); null without data.`, resolve: async (p: Parent) => k.compute(await of(p)) });
  }
  fields.resolvedCases = t.int({ description: 'RESOLUTION_TIME events.', resolve: async (p: Parent) => (await of(p)).resCount });
  fields.satisfactionResponses = t.int({ description: 'SATISFACTION events.', resolve: async (p: Parent) => (await of(p)).satCount });
  return fields;
}
