import type { Executor, ProgramTable } from '../db/types.js';

export type Program = ProgramTable;

export async function insertProgram(db: Executor, program: Program): Promise<boolean> {
  const result = await db
    .insertInto('programs')
    .values(program)
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
