/**
 * "This program exists and this key may see it", in one place: every resolver that takes a program,
 * or something that belongs to one, asks here.
 *
 * - A program id is a name the caller chose: another program's is FORBIDDEN (the contract's answer),
 *   an unknown one NOT_FOUND.
 * - Anything else is taken by an opaque id (a target, webhook, alert rule, alert, event, key): one
 *   of a program the key may not see is NOT_FOUND, exactly as an unknown id, so an id tells nothing
 *   about other programs. What belongs to every program (program null) is seen by every key, but
 *   managed only by a key for every program.
 */
import { assertEveryProgram, assertProgramAccess, canSeeProgram } from '../auth/caller.js';
import type { Context } from '../context.js';
import type { ProgramRef } from '../kpis/kpi.service.js';
import { notFound } from '../schema/errors.js';

export interface ProgramCheck {
  /** The argument that named the program, in the NOT_FOUND message when it is not `programId`. */
  field?: string;
  /** The error for a program that does not exist; NOT_FOUND by default. */
  missing?: (programId: string) => Error;
}

/**
 * The program `programId`, if it exists and the caller may see it. Existence is read from the
 * write path's KnownPrograms: the record mutations' check and their writes share one cache.
 */
export async function visibleProgram(ctx: Context, programId: string, check: ProgramCheck = {}): Promise<ProgramRef> {
  assertProgramAccess(ctx.caller, programId);
  const timezone = (await ctx.services.recorder.programs.zonesOf(ctx.services.db, [programId])).get(programId);
  if (timezone === undefined) {
    if (check.missing) throw check.missing(programId);
    const error = notFound('program', programId);
    if (check.field !== undefined && check.field !== 'programId') error.message = `${check.field}: ${error.message}`;
    throw error;
  }
  return { id: programId, timezone };
}

/**
 * The programs a read covers: the one named (checked as above), or with null every program the
 * caller may see (null again: every program).
 */
export async function visibleProgramIds(ctx: Context, programId: string | null): Promise<readonly string[] | null> {
  if (programId === null) return ctx.caller.programIds;
  await visibleProgram(ctx, programId);
  return [programId];
}

/** Whether the caller may see something of `programId` (null: of every program, which every key sees). */
export function canSeeOwned(ctx: Context, programId: string | null): boolean {
  return programId === null || canSeeProgram(ctx.caller, programId);
}

/**
 * `found` (looked up by `what` and `id`), if the caller may see it; NOT_FOUND when it is missing or
 * belongs to a program the caller may not see. With `manage`, a thing of every program also needs
 * a key for every program (FORBIDDEN: that key sees it exists).
 */
export function visibleOwned<T>(
  ctx: Context,
  what: string,
  id: string,
  found: T | null | undefined,
  programOf: (row: T) => string | null,
  options: { manage?: boolean } = {},
): T {
  if (found == null) throw notFound(what, id);
  const programId = programOf(found);
  if (!canSeeOwned(ctx, programId)) throw notFound(what, id);
  if (options.manage && programId === null) assertEveryProgram(ctx.caller);
  return found;
}
