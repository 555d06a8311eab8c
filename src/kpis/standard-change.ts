/**
 * A program's service standard changed: every stored count judged against it is judged again, so
 * past answers agree with the new standard (issue 20). Runs inside the caller's transaction, under
 * the program's lock (its share of ALL_PROGRAMS goes to a shard it holds), so readers see either the
 * old standard's rollups or the new one's, never a mix (see README "Service standards" for what that costs on a large program).
 */
import type { OpenDatabase } from '../db/database.js';
import type { Executor } from '../db/types.js';
import { withinStandard } from './aggregate.js';
import type { ProgramRef } from './kpi.service.js';
import { ALL_PROGRAMS_SHARDS } from './rollup-levels.js';
import { applyRollupDeltas, foldDeltas, type RollupEvent } from './rollups.repository.js';
import type { Interval } from './time.js';

const CHUNK = 50_000;

/** What one resolution time counts, judged against `standard` (null: none). */
function judged(value: number, standard: number | null): { judged: number; within: number } {
  if (standard === null) return { judged: 0, within: 0 };
  return { judged: 1, within: withinStandard(value, standard) ? 1 : 0 };
}

/**
 * Moves the program's rollups (its own, its dimension values' and its share of ALL_PROGRAMS's) from
 * `before` to `after`. Only the resolution times whose judgement changes are read: with two
 * standards, those between them. Returns the span of the events it changed (null: none).
 */
export async function rejudgeStandard(
  database: OpenDatabase,
  trx: Executor,
  program: ProgramRef,
  before: number | null,
  after: number | null,
): Promise<Interval | null> {
  if (before === after) return null;
  const zones = new Map([[program.id, program.timezone]]);
  const total = await database.lockAnyOf(trx, ALL_PROGRAMS_SHARDS);
  let changed: Interval | null = null;
  for (let afterId = 0; ; ) {
    let query = trx
      .selectFrom('events')
      .select(['id', 'program_id', 'kind', 'value', 'occurred_at', 'attributes'])
      .where('program_id', '=', program.id)
      .where('kind', '=', 'RESOLUTION_TIME')
      .where('retracted_at', 'is', null)
      .where('id', '>', afterId);
    if (before !== null && after !== null)
      query = query.where('value', '>', Math.min(before, after)).where('value', '<=', Math.max(before, after));
    const events: (RollupEvent & { id: number })[] = await query.orderBy('id').limit(CHUNK).execute();
    if (events.length === 0) return changed;
    const deltas = foldDeltas(
      events,
      zones,
      (aggregate, row) => {
        const old = judged(row.value!, before);
        const now = judged(row.value!, after);
        aggregate.resJudged += now.judged - old.judged;
        aggregate.resWithin += now.within - old.within;
      },
      total,
    );
    await applyRollupDeltas(trx, deltas, database.writtenRollups);
    for (const event of events) {
      const t = Number(event.occurred_at);
      changed = changed
        ? { start: Math.min(changed.start, t), end: Math.max(changed.end, t + 1) }
        : { start: t, end: t + 1 };
    }
    afterId = Number(events[events.length - 1].id);
  }
}
