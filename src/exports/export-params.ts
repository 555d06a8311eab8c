/**
 * The query string of an export, read into the arguments of `events` or `dashboard`: the same
 * names, `kinds` comma-separated, and `filter.<key>=<value>` repeated for several values. A
 * parameter the route does not take is refused, so a misspelt one never exports more than asked.
 */
import { EVENT_KINDS, type EventKind } from '../kpis/registry.js';
import { badInput } from '../schema/errors.js';
import { parseInstant } from '../schema/scalars.js';

export class ExportParams {
  private readonly used = new Set<string>();
  private readonly filters = new Map<string, string[]>();

  constructor(private readonly params: URLSearchParams) {
    for (const [name, value] of params) {
      if (!name.startsWith('filter.')) continue;
      const key = name.slice('filter.'.length);
      this.filters.set(key, [...(this.filters.get(key) ?? []), value]);
    }
  }

  static of(url: string | undefined): ExportParams {
    return new ExportParams(new URL(url ?? '/', 'http://x').searchParams);
  }

  /** The one value of `name`, or null when absent. */
  text(name: string): string | null {
    this.used.add(name);
    const values = this.params.getAll(name);
    if (values.length > 1) throw badInput(name, 'may be given once');
    return values[0] ?? null;
  }

  required(name: string): string {
    const value = this.text(name);
    if (value === null || value === '') throw badInput(name, 'is required');
    return value;
  }

  instant(name: string): number | null {
    const value = this.text(name);
    return value === null ? null : parseInstant(value, name);
  }

  boolean(name: string): boolean | null {
    const value = this.text(name);
    if (value === null) return null;
    if (value !== 'true' && value !== 'false') throw badInput(name, 'must be true or false');
    return value === 'true';
  }

  integer(name: string): number | null {
    const value = this.text(name);
    if (value === null) return null;
    if (!/^-?\d{1,9}$/.test(value)) throw badInput(name, 'must be a whole number');
    return Number(value);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | null {
    const value = this.text(name);
    if (value !== null && !allowed.includes(value as T)) throw badInput(name, `must be one of ${allowed.join(', ')}`);
    return value as T | null;
  }

  kinds(): EventKind[] | null {
    const value = this.text('kinds');
    if (value === null) return null;
    return value.split(',').map((kind, i) => {
      if (!EVENT_KINDS.includes(kind as EventKind))
        throw badInput(`kinds[${i}]`, `must be one of ${EVENT_KINDS.join(', ')} (got "${kind}")`);
      return kind as EventKind;
    });
  }

  /** `filter.<key>=<value>`, as the GraphQL filter argument; checked by the scope like any filter. */
  filter(): { key: string; values: string[] }[] {
    return [...this.filters].map(([key, values]) => ({ key, values }));
  }

  /** After every read: BAD_USER_INPUT for a parameter the route does not take. */
  checkNoOthers(): void {
    for (const name of new Set(this.params.keys()))
      if (!name.startsWith('filter.') && !this.used.has(name))
        throw badInput(name, 'is not a parameter of this export');
  }
}

/** A file name for Content-Disposition: the program id (or "all") kept to safe characters. */
export function fileName(base: string, programId: string | null, extension: string): string {
  const program = (programId ?? 'all').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return `${base}-${program}.${extension}`;
}
