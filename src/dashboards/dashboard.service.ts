/**
 * The dashboard's loading, in two steps. authorizeScope checks the arguments against the caller
 * (bad input, FORBIDDEN, NOT_FOUND) and gives the scope: what the dashboard is about, never who
 * asked. loadScope reads what that scope covers now (its programs, its range with open bounds
 * closed on the data). A query runs both; a live scope is authorized once, at subscribe, and
 * loaded again from that same scope on every change (computeDashboard).
 */
import DataLoader from 'dataloader';
import { createHash } from 'node:crypto';
import { visible } from '../auth/caller.js';
import { createLoaders, type Context, type Services } from '../context.js';
import { listPrograms, programsByIds, type Program } from '../programs/programs.repository.js';
import { type BreakdownArgs, type BreakdownRow, dashboardBreakdown } from './breakdown.js';
import { Aggregate } from '../kpis/aggregate.js';
import { aggregateFilteredSets, seriesAnswers } from '../kpis/filtered.js';
import type { KpiInputs } from '../kpis/registry.js';
import { aggregateSpansOfAll, eventTimeBounds, type ProgramRef } from '../kpis/kpi.service.js';
import { type AttributeFilter, filterKey } from '../scope/filter.js';
import { checkedScope, type Scope, type ScopeArgs } from '../scope/scope.js';
import {
  bucketStart,
  bucketsCovering,
  isValidTimeZone,
  nextBucketStart,
  TooManyBucketsError,
  type Granularity,
  type Interval,
} from '../kpis/time.js';
import { badInput } from '../schema/errors.js';
import { groupBy } from '../util/group-by.js';

export const MAX_BUCKETS = 2_000;

export interface DashboardArgs {
  programId?: string | null;
  from?: number | null;
  to?: number | null;
  granularity?: Granularity | null;
  timezone?: string | null;
  filter?: ScopeArgs['filter'];
}

/** A dashboard's question, checked against the caller who asked it. */
export interface AuthorizedScope {
  /** One program, or null: every program of `programIds`. */
  programId: string | null;
  /** The programs the scope may cover: [programId], or those the caller may see (null: every program). */
  programIds: readonly string[] | null;
  /** In normal form (scope/filter.ts); empty: none. */
  filter: Scope['filter'];
  from: number | null;
  to: number | null;
  granularity: Granularity;
  /** The zone series buckets are cut in. */
  timezone: string;
}

/** A scope loaded: what it covers now. */
export interface DashboardScope extends Scope, AuthorizedScope {
  programId: string | null;
  filter: Scope['filter'];
  /** The range actually answered: open bounds closed on the data; null when there is none. */
  range: Interval | null;
}

/** Checks the arguments and the caller's access; the one place a dashboard's programs are chosen. */
export async function authorizeScope(ctx: Context, args: DashboardArgs): Promise<AuthorizedScope> {
  const programId = args.programId == null ? null : String(args.programId);
  const from = args.from ?? null;
  const to = args.to ?? null;
  const granularity = args.granularity ?? 'DAY';
  if (from !== null && to !== null && from >= to) throw badInput('from', 'must be before to');
  if (args.timezone != null && !isValidTimeZone(args.timezone)) {
    throw badInput('timezone', `must be an IANA time zone such as "America/New_York" (got "${args.timezone}")`);
  }

  const { programs, filter } = await checkedScope(ctx, { programId, filter: args.filter });
  const timezone = args.timezone ?? (programId !== null ? programs[0].timezone : 'UTC');
  const programIds = programId === null ? ctx.caller.programIds : [programId];
  return { programId, programIds, filter, from, to, granularity, timezone };
}

/** What an authorized scope covers at `now`. */
export async function loadScope(services: Services, scope: AuthorizedScope, now: number): Promise<DashboardScope> {
  const { programId, from, to, granularity, timezone } = scope;
  // A named program was checked by authorizeScope (programs are never deleted); an all-programs
  // scope is listed anew, so a program created since counts if the scope may cover it.
  const programs: Program[] =
    programId !== null
      ? await programsByIds(services.db, [programId])
      : visible(scope, await listPrograms(services.db));
  const db = services.db;

  let range: Interval | null = null;
  if (from !== null && to !== null) range = { start: from, end: to };
  else {
    const bounds = await eventTimeBounds(
      db,
      programs.map((p) => p.id),
    );
    const start = from ?? bounds?.start;
    // An open end closes on the bucket that holds now (or a slightly future event).
    const last = Math.max(now, bounds ? bounds.end - 1 : now);
    const end = to ?? nextBucketStart(bucketStart(last, granularity, timezone), granularity, timezone);
    if (start !== undefined && start < end) range = { start, end };
  }
  // A key that sees every program reads the all-programs rollups: one row per bucket, not one per program.
  const everyProgram = programId === null && scope.programIds === null;
  return { ...scope, programs, everyProgram, range };
}

/** Both steps, for a query. */
export async function resolveScope(ctx: Context, args: DashboardArgs, now: number): Promise<DashboardScope> {
  return loadScope(ctx.services, await authorizeScope(ctx, args), now);
}

/** What reading a dashboard needs: the services and loaders, no caller. */
export type DashboardReader = Pick<Context, 'services' | 'loaders'>;

/** A dashboard being answered: its KPI blocks are read once, whichever fields ask for them. */
export class DashboardView {
  private totalsPromise?: Promise<Aggregate>;
  private seriesPromise?: Promise<{ start: number; aggregate: KpiInputs }[]>;
  private readonly breakdowns = new Map<string, Promise<BreakdownRow[]>>();
  constructor(
    private readonly reader: DashboardReader,
    readonly scope: DashboardScope,
  ) {}
  totals() {
    return (this.totalsPromise ??= dashboardTotals(this.reader, this.scope));
  }
  series() {
    return (this.seriesPromise ??= dashboardSeries(this.reader, this.scope));
  }
  /** Read with the view's own loaders: a live view is computed once for all its subscribers. */
  breakdown(args: BreakdownArgs) {
    const key = JSON.stringify(args);
    let rows = this.breakdowns.get(key);
    if (!rows) {
      rows = dashboardBreakdown(this.reader, this.scope, args);
      this.breakdowns.set(key, rows);
    }
    return rows;
  }
}

/** The dashboard query: the arguments checked against the caller, then loaded. */
export async function loadDashboard(ctx: Context, args: DashboardArgs): Promise<DashboardView> {
  return new DashboardView(ctx, await resolveScope(ctx, args, ctx.services.now()));
}

/**
 * A live scope's dashboard now, its totals computed (subscribers only read them). Fresh loaders
 * every time: cached blocks would serve the numbers from before the change.
 */
export async function computeDashboard(services: Services, scope: AuthorizedScope): Promise<DashboardView> {
  const view = new DashboardView(
    { services, loaders: createLoaders(services) },
    await loadScope(services, scope, services.now()),
  );
  await view.totals();
  return view;
}

/** Subscribers with equal keys see the same dashboard: same programs, range, buckets and zone. */
export function scopeKey(scope: AuthorizedScope): string {
  const programs =
    scope.programId !== null
      ? `program:${scope.programId}`
      : scope.programIds === null
        ? 'every-program'
        : `programs:${[...new Set(scope.programIds)].sort().join(',')}`;
  return JSON.stringify([programs, scope.from, scope.to, scope.granularity, scope.timezone, filterKey(scope.filter)]);
}

/**
 * Dashboard.id: the scope key, hashed. Equal arguments seen by equal keys give equal ids (a client
 * cache merges the query's dashboard and the live pushes into one object); anything else differs.
 */
export function dashboardId(scope: AuthorizedScope): string {
  return createHash('sha256').update(scopeKey(scope)).digest('base64url').slice(0, 22);
}

/** The series buckets; too many are refused before any data is read (only when a series is asked for). */
export function seriesSpans(scope: DashboardScope) {
  if (!scope.range) return [];
  try {
    return bucketsCovering(scope.range.start, scope.range.end, scope.granularity, scope.timezone, MAX_BUCKETS);
  } catch (error) {
    if (error instanceof TooManyBucketsError) {
      throw badInput(
        'granularity',
        `gives more than ${MAX_BUCKETS} buckets for this range; choose a coarser one or a shorter range`,
      );
    }
    throw error;
  }
}

interface BlockKey {
  program: ProgramRef;
  spans: readonly Interval[];
  /** In normal form; absent or empty: none. */
  filter?: readonly AttributeFilter[];
}

/**
 * The text of a set of spans, kept for as long as the set lives: the loader asks it of each key
 * three times, and a DAY series is 365 spans.
 */
const spansTexts = new WeakMap<readonly Interval[], string>();
function spansText(spans: readonly Interval[]): string {
  let text = spansTexts.get(spans);
  if (text === undefined) spansTexts.set(spans, (text = spans.map((s) => `${s.start}-${s.end}`).join(',')));
  return text;
}

const spansKey = (key: BlockKey) => `${spansText(key.spans)}|${filterKey(key.filter ?? [])}`;

/**
 * Per-request loader of KPI blocks: every dashboard in one request that asks for the same spans
 * is answered by one pass over the rollups, however many programs it names. Blocks of the same
 * programs and filter over other spans (a dashboard's totals and its series) are read together,
 * so a combination of filters reads its raw events once.
 */
export function createBlockLoader(db: Services['db'], now: () => number) {
  return new DataLoader<BlockKey, Aggregate[], string>(
    async (keys) => {
      const bySpans = new Map<
        string,
        { spans: readonly Interval[]; filter: readonly AttributeFilter[]; programs: Map<string, ProgramRef> }
      >();
      for (const key of keys) {
        const sk = spansKey(key);
        let group = bySpans.get(sk);
        if (!group) bySpans.set(sk, (group = { spans: key.spans, filter: key.filter ?? [], programs: new Map() }));
        group.programs.set(key.program.id, key.program);
      }
      // Span sets asked for the same programs under the same filter: one read for them all.
      const reads = groupBy(
        bySpans,
        ([, group]) => `${[...group.programs.keys()].sort().join(',')}|${filterKey(group.filter)}`,
      );
      const answers = new Map<string, Aggregate[]>();
      for (const sets of reads.values()) {
        const { programs, filter } = sets[0][1];
        const blocks = await aggregateFilteredSets(
          db,
          [...programs.values()],
          filter,
          sets.map(([, group]) => group.spans),
          now(),
        );
        sets.forEach(([sk], set) => {
          for (const [programId, aggregates] of blocks[set]) answers.set(`${programId}|${sk}`, aggregates);
        });
      }
      return keys.map((key) => answers.get(`${key.program.id}|${spansKey(key)}`)!);
    },
    { cacheKeyFn: (key) => `${key.program.id}|${spansKey(key)}` },
  );
}

/** The dashboard's KPIs over its whole range, merged over its programs. */
export async function dashboardTotals(ctx: DashboardReader, scope: DashboardScope): Promise<Aggregate> {
  if (!scope.range) return new Aggregate();
  if (scope.everyProgram && scope.filter.length === 0)
    return (
      await aggregateSpansOfAll(
        ctx.services.db,
        scope.programs.map((p) => p.id),
        [scope.range],
        ctx.services.now(),
      )
    )[0];
  const blocks = await ctx.loaders.blocks.loadMany(
    scope.programs.map((program) => ({ program, spans: [scope.range!], filter: scope.filter })),
  );
  return sumOf(blocks.map((b) => unwrap(b)[0]));
}

/** One point per series bucket, oldest first, empty buckets included. */
export async function dashboardSeries(
  ctx: DashboardReader,
  scope: DashboardScope,
): Promise<{ start: number; aggregate: KpiInputs }[]> {
  const buckets = seriesSpans(scope);
  const spans = buckets.map((b) => b.span);
  if (scope.everyProgram && scope.filter.length === 0) {
    const totals = await aggregateSpansOfAll(
      ctx.services.db,
      scope.programs.map((p) => p.id),
      spans,
      ctx.services.now(),
    );
    return buckets.map((bucket, i) => ({ start: bucket.start, aggregate: totals[i] }));
  }
  if (scope.programs.length === 1) {
    const [program] = scope.programs;
    const points = await seriesAnswers(ctx.services.db, program, scope.filter, spans, ctx.services.now());
    if (points) return buckets.map((bucket, i) => ({ start: bucket.start, aggregate: points[i] }));
  }
  const blocks = (
    await ctx.loaders.blocks.loadMany(scope.programs.map((program) => ({ program, spans, filter: scope.filter })))
  ).map(unwrap);
  return buckets.map((bucket, i) => ({ start: bucket.start, aggregate: sumOf(blocks.map((b) => b[i])) }));
}

/**
 * The blocks' sum; one program's block is its own sum, answered as it is rather than copied (a
 * series point each). Readers only compute KPIs from it, which leaves it as it was.
 */
function sumOf(parts: Aggregate[]): Aggregate {
  return parts.length === 1 ? parts[0] : Aggregate.sum(parts);
}

function unwrap<T>(value: T | Error): T {
  if (value instanceof Error) throw value;
  return value;
}
