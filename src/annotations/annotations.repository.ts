/** Annotations: a change marked in a program at an instant. */
import { randomUUID } from 'node:crypto';
import type { AnnotationTable, Executor } from '../db/types.js';
import type { Interval } from '../kpis/time.js';

export interface Annotation {
  id: string;
  program_id: string;
  at: number;
  title: string;
  description: string | null;
  created_at: number;
}

const COLUMNS = ['id', 'program_id', 'at', 'title', 'description', 'created_at'] as const;

// pg returns bigint columns as strings.
const toAnnotation = (row: AnnotationTable): Annotation => ({
  ...row,
  at: Number(row.at),
  created_at: Number(row.created_at),
});

export async function insertAnnotation(
  db: Executor,
  input: { programId: string; at: number; title: string; description: string | null },
  now: number,
): Promise<Annotation> {
  const row: AnnotationTable = {
    id: randomUUID(),
    program_id: input.programId,
    at: input.at,
    title: input.title,
    description: input.description,
    created_at: now,
  };
  await db.insertInto('annotations').values(row).execute();
  return row;
}

export async function annotationById(db: Executor, id: string): Promise<Annotation | undefined> {
  const row = await db.selectFrom('annotations').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toAnnotation(row);
}

export async function deleteAnnotationById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('annotations').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The annotations of `programIds` with `at` in [range.start, range.end), oldest first (then by id). */
export async function annotationsInRange(
  db: Executor,
  programIds: readonly string[],
  range: Interval,
): Promise<Annotation[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .selectFrom('annotations')
    .select(COLUMNS)
    .where('program_id', 'in', programIds)
    .where('at', '>=', range.start)
    .where('at', '<', range.end)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return rows.map(toAnnotation);
}
