/** Dimensions and the values seen of each (issue 18). Plain functions over `db` or a transaction. */
import type { DimensionTable, Executor } from '../db/types.js';

export interface Dimension {
  programId: string;
  key: string;
  label: string;
  maxValues: number;
  position: number;
}

const toDimension = (row: Pick<DimensionTable, 'program_id' | 'dim_key' | 'label' | 'max_values' | 'position'>) => ({
  programId: row.program_id,
  key: row.dim_key,
  label: row.label,
  maxValues: Number(row.max_values),
  position: Number(row.position),
});

/** The dimensions of each of `programIds`, in the order they were declared. */
export async function dimensionsOf(db: Executor, programIds: readonly string[]): Promise<Dimension[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .selectFrom('dimensions')
    .select(['program_id', 'dim_key', 'label', 'max_values', 'position'])
    .where('program_id', 'in', programIds)
    .orderBy('program_id')
    .orderBy('position')
    .execute();
  return rows.map(toDimension);
}

export async function insertDimensions(
  db: Executor,
  programId: string,
  dimensions: readonly { key: string; label: string; maxValues: number }[],
  firstPosition: number,
  now: number,
): Promise<void> {
  if (dimensions.length === 0) return;
  await db
    .insertInto('dimensions')
    .values(
      dimensions.map((d, i) => ({
        program_id: programId,
        dim_key: d.key,
        label: d.label,
        max_values: d.maxValues,
        value_count: 0,
        position: firstPosition + i,
        created_at: now,
      })),
    )
    .execute();
}

/** The values seen of each dimension of `programIds`, sorted: `${programId} ${key}` → values. */
export async function valuesOf(db: Executor, programIds: readonly string[]): Promise<Map<string, string[]>> {
  const byDimension = new Map<string, string[]>();
  if (programIds.length === 0) return byDimension;
  const rows = await db
    .selectFrom('dimension_values')
    .select(['program_id', 'dim_key', 'value'])
    .where('program_id', 'in', programIds)
    .orderBy('program_id')
    .orderBy('dim_key')
    .orderBy('value')
    .execute();
  for (const row of rows) {
    const k = dimensionKey(row.program_id, row.dim_key);
    const list = byDimension.get(k);
    if (list) list.push(row.value);
    else byDimension.set(k, [row.value]);
  }
  return byDimension;
}

export const dimensionKey = (programId: string, key: string) => `${programId}\u0000${key}`;

/** Which of `values` a dimension has taken already. */
export async function knownValues(
  db: Executor,
  programId: string,
  key: string,
  values: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < values.length; i += 500) {
    const rows = await db
      .selectFrom('dimension_values')
      .select('value')
      .where('program_id', '=', programId)
      .where('dim_key', '=', key)
      .where('value', 'in', values.slice(i, i + 500))
      .execute();
    for (const row of rows) found.push(row.value);
  }
  return found;
}

/** The count and bound of each dimension of `programIds`, read inside the write transaction. */
export async function valueCounts(
  db: Executor,
  programIds: readonly string[],
): Promise<Map<string, { count: number; max: number }>> {
  const counts = new Map<string, { count: number; max: number }>();
  if (programIds.length === 0) return counts;
  const rows = await db
    .selectFrom('dimensions')
    .select(['program_id', 'dim_key', 'value_count', 'max_values'])
    .where('program_id', 'in', programIds)
    .execute();
  for (const row of rows)
    counts.set(dimensionKey(row.program_id, row.dim_key), {
      count: Number(row.value_count),
      max: Number(row.max_values),
    });
  return counts;
}

/** Stores new values of one dimension and counts them, inside the write transaction. */
export async function addValues(
  db: Executor,
  programId: string,
  key: string,
  values: readonly string[],
  now: number,
): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    await db
      .insertInto('dimension_values')
      .values(
        values.slice(i, i + 500).map((value) => ({ program_id: programId, dim_key: key, value, created_at: now })),
      )
      .execute();
  }
  await db
    .updateTable('dimensions')
    .set((eb) => ({ value_count: eb('value_count', '+', values.length) }))
    .where('program_id', '=', programId)
    .where('dim_key', '=', key)
    .execute();
}

export interface DimensionWithValues extends Dimension {
  values: string[];
}

/** The dimensions of each program with their values, for a request's loader. */
export async function loadDimensions(db: Executor, programIds: readonly string[]): Promise<DimensionWithValues[][]> {
  const [dimensions, values] = await Promise.all([dimensionsOf(db, programIds), valuesOf(db, programIds)]);
  return programIds.map((id) =>
    dimensions
      .filter((d) => d.programId === id)
      .map((d) => ({ ...d, values: values.get(dimensionKey(id, d.key)) ?? [] })),
  );
}
