import type { Executor, ProgramTable } from '../db/types.js';

export type Program = ProgramTable;

/** A program to insert; without a service standard unless one is given. */
export type NewProgram = Omit<Program, 'resolution_standard_days'> & { resolution_standard_days?: number | null };

export async function insertProgram(db: Executor, program: NewProgram): Promise<boolean> {
  const result = await db
    .insertInto('programs')
    .values({ ...program, resolution_standard_days: program.resolution_standard_days ?? null })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export function listPrograms(db: Executor): Promise<Program[]> {
  return db.selectFrom('programs').selectAll().orderBy('id').execute();
}

export function programsByIds(db: Executor, ids: readonly string[]): Promise<Program[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('programs').selectAll().where('id', 'in', ids).execute();
}

export async function updateProgramRow(
  db: Executor,
  id: string,
  changes: Partial<Pick<Program, 'name' | 'resolution_standard_days'>>,
): Promise<void> {
  await db.updateTable('programs').set(changes).where('id', '=', id).execute();
}
