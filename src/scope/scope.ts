/**
 * The scope of a question: one program or every program the caller may see, plus attribute
 * filters. Dashboards, breakdowns, live scopes, alert rules, targets and scorecards all take it
 * from here, checked against the caller and the programs' dimensions; none re-derives one.
 */
import { visible } from '../auth/caller.js';
import type { Context } from '../context.js';
import { fieldError } from '../events/attributes.js';
import { listPrograms, type Program } from '../programs/programs.repository.js';
import { visibleProgram } from '../programs/program-access.js';
import { type AttributeFilter, normalizeFilter } from './filter.js';

export interface Scope {
  /** Null: every program the caller may see. */
  programId: string | null;
  programs: Program[];
  /** The caller sees every program and asked for all of them: the all-programs rollups may answer. */
  everyProgram: boolean;
  /** In normal form (filter.ts); empty: none. */
  filter: AttributeFilter[];
}

export interface ScopeArgs {
  programId?: string | null;
  filter?: readonly { key: string; values: readonly string[] }[] | null;
}

/**
 * Checks the program (FORBIDDEN beyond the caller's key, NOT_FOUND when unknown) and the filter
 * (its shape, and that some program in scope declares each key: BAD_USER_INPUT naming
 * `${field}[i].key`). `field` is the filter argument's name.
 */
export async function checkedScope(ctx: Context, args: ScopeArgs, field = 'filter'): Promise<Scope> {
  const programId = args.programId == null ? null : String(args.programId);
  const filter = normalizeFilter(args.filter, field);
  let programs: Program[];
  if (programId !== null) {
    await visibleProgram(ctx, programId);
    // Exists (programs are never deleted): the row, for what a scope shows of its program.
    programs = [(await ctx.loaders.program.load(programId))!];
  } else {
    programs = visible(ctx.caller, await listPrograms(ctx.services.db));
  }
  if (filter.length > 0) await checkFilterKeys(ctx, programs, args.filter ?? [], programId, field);
  const everyProgram = programId === null && ctx.caller.programIds === null;
  return { programId, programs, everyProgram, filter };
}

async function checkFilterKeys(
  ctx: Context,
  programs: readonly Program[],
  input: readonly { key: string }[],
  programId: string | null,
  field: string,
) {
  const declared = new Set<string>();
  for (const dimensions of await ctx.loaders.dimensions.loadMany(programs.map((p) => p.id))) {
    if (dimensions instanceof Error) throw dimensions;
    for (const d of dimensions) declared.add(d.key);
  }
  for (const [i, { key }] of input.entries()) {
    if (declared.has(key)) continue;
    const where = programId !== null ? `program "${programId}"` : 'any program this key may see';
    throw fieldError(`${field}[${i}].key`, `"${key}" is not a dimension of ${where}`);
  }
}

/** Whether `key` is a dimension some program of the scope declares (or "program", for breakdowns). */
export async function declaresDimension(ctx: Pick<Context, 'loaders'>, scope: Scope, key: string): Promise<boolean> {
  for (const dimensions of await ctx.loaders.dimensions.loadMany(scope.programs.map((p) => p.id))) {
    if (dimensions instanceof Error) throw dimensions;
    if (dimensions.some((d) => d.key === key)) return true;
  }
  return false;
}
