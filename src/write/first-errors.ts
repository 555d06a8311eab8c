/**
 * The first errors of a long write (an import), by line: at most `max` are kept, the lowest line
 * numbers, whichever order they were found in (a chunk written later may report a line before one
 * validated sooner). Every error is counted.
 */
import type { GraphQLError } from 'graphql';

export interface LineError {
  line: number;
  /** The column or field at fault; null for the row as a whole. */
  field: string | null;
  message: string;
}

export class FirstErrors {
  readonly kept: LineError[] = [];
  count = 0;

  constructor(private readonly max = 100) {}

  add(error: LineError): void {
    this.count++;
    const kept = this.kept;
    if (kept.length === this.max && kept[kept.length - 1].line <= error.line) return;
    let at = kept.length;
    while (at > 0 && kept[at - 1].line > error.line) at--;
    kept.splice(at, 0, error);
    if (kept.length > this.max) kept.pop();
  }

  /** The error that refused a row's write (validation, CONFLICT, maxValues), as the report shows it. */
  addRefusal(line: number, error: Error): void {
    const extensions = (error as GraphQLError).extensions ?? {};
    const field = typeof extensions.field === 'string' ? extensions.field : fieldOfCode(extensions.code);
    this.add({ line, field, message: error.message });
  }
}

const FIELD_OF_CODE: Record<string, string> = {
  CONFLICT: 'idempotencyKey',
  FORBIDDEN: 'programId',
  NOT_FOUND: 'programId',
};
const fieldOfCode = (code: unknown): string | null => FIELD_OF_CODE[String(code)] ?? null;
