/**
 * Changing a program (issue 20): its name, and its service standard, whose change judges every stored
 * resolution time again (kpis/standard-change.ts) in the same transaction as the program row.
 */
import type { OpenDatabase } from '../db/database.js';
import type { ProgramRef } from '../kpis/kpi.service.js';
import { rejudgeStandard } from '../kpis/standard-change.js';
import type { Interval } from '../kpis/time.js';
import { type Program, programsByIds, updateProgramRow } from './programs.repository.js';

export interface ProgramChanges {
  name?: string;
  /** Absent: unchanged; null: no standard. */
  resolutionStandardDays?: number | null;
}

/** The program as changed, and the span of events whose judgement changed (null: none). */
export async function updateProgram(
  database: OpenDatabase,
  program: ProgramRef,
  changes: ProgramChanges,
): Promise<{ program: Program; changed: Interval | null }> {
  return database.db.transaction().execute(async (trx) => {
    // Writers of the program wait (they read its standard under its lock), so no event is judged by a
    // standard that is changing; writers of other programs go on.
    await database.lockPrograms(trx, [program.id]);
    const before = (await programsByIds(trx, [program.id]))[0];
    const row: Partial<Program> = {};
    if (changes.name !== undefined) row.name = changes.name;
    if (changes.resolutionStandardDays !== undefined) row.resolution_standard_days = changes.resolutionStandardDays;
    if (Object.keys(row).length > 0) await updateProgramRow(trx, program.id, row);
    const changed =
      changes.resolutionStandardDays === undefined
        ? null
        : await rejudgeStandard(
            database,
            trx,
            program,
            before.resolution_standard_days === null ? null : Number(before.resolution_standard_days),
            changes.resolutionStandardDays,
          );
    return { program: { ...before, ...row }, changed };
  });
}
