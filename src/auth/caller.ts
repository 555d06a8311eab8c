/**
 * Who is calling, and what they may see. The program filter of every read comes from here,
 * so no resolver can forget it.
 */
import type { Role } from '../db/types.js';
import { forbidden } from '../schema/errors.js';

export interface Caller {
  /** The stored key's id; null for the bootstrap ADMIN_API_KEY. */
  keyId: string | null;
  role: Role;
  /** The programs the key is limited to; null means every program. */
  programIds: readonly string[] | null;
}

export const canRead = (caller: Caller) => caller.role === 'ADMIN' || caller.role === 'VIEWER';
export const canRecord = (caller: Caller) => caller.role === 'ADMIN' || caller.role === 'INTEGRATION';
export const isAdmin = (caller: Caller) => caller.role === 'ADMIN';

/** Who may see what: a caller, or a scope authorized for one. */
type ProgramSet = Pick<Caller, 'programIds'>;

export function canSeeProgram(caller: ProgramSet, programId: string): boolean {
  return caller.programIds === null || caller.programIds.includes(programId);
}

export function assertProgramAccess(caller: Caller, programId: string): void {
  if (!canSeeProgram(caller, programId)) throw forbidden(`this key may not access program "${programId}"`);
}

/**
 * What belongs to no single program (programs, keys, the audit log, every-program rules and
 * webhooks) is managed only by a key for every program; an admin key limited to some programs
 * manages those programs' things only.
 */
export function assertEveryProgram(caller: Caller): void {
  if (caller.programIds !== null) throw forbidden('only a key for every program may do this');
}

/** May the caller manage something of `programId`? Null (every program) needs a key for every program. */
export function assertManages(caller: Caller, programId: string | null): void {
  if (programId === null) assertEveryProgram(caller);
  else assertProgramAccess(caller, programId);
}

/** Whether every program of `programIds` (null: every program) is one the caller may see. */
export function coversPrograms(caller: Caller, programIds: readonly string[] | null): boolean {
  if (caller.programIds === null) return true;
  if (programIds === null) return false;
  return programIds.every((id) => canSeeProgram(caller, id));
}

/** Narrows a list of program ids to those the caller may see. */
export function visible<T extends { id: string }>(caller: ProgramSet, programs: readonly T[]): T[] {
  return programs.filter((p) => canSeeProgram(caller, p.id));
}

/** How logs and records name the bootstrap ADMIN_API_KEY, which has no stored key id. */
export const BOOTSTRAP_ACTOR = 'ADMIN_API_KEY';

/** The id that names the caller's key in the audit log and on recorded events. */
export const actorOf = (caller: Caller): string => caller.keyId ?? BOOTSTRAP_ACTOR;
