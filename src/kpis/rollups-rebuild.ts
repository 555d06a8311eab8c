/**
 * Rollups are derived data. Whenever their shape changes (levels, histogram encoding),
 * ROLLUP_VERSION changes with it, and at start-up the rollups are rebuilt from the raw events in
 * one transaction, so no reader ever sees rollups of one shape read as another.
 */
import type { OpenDatabase } from '../db/database.js';
import { ALL_PROGRAMS, ALL_PROGRAMS_SHARDS } from './rollup-levels.js';
import { applyRollupDeltas, rollupDeltas } from './rollups.repository.js';

/**
 * 4: month level, ALL_PROGRAMS, histogram bins of ratio 1.01, varint encoding with stored percentiles (format 4).
 * 5: exact sums and sums of squares; local days and months keyed by their first instant (kpis/time.ts).
 * 6: rollups per dimension value (issue 18).
 * 7: dimension values keep no hour rollups.
 * 8: resolution times within their program's service standard, and those judged (issue 20).
 * 9: the KPIs a row answers, stored with it (kpis/row-answers.ts).
 */
export const ROLLUP_VERSION = 9;
const CHUNK = 50_000;

/** Rebuilds the rollups unless they already have this shape; true when it rebuilt them. */
export async function ensureRollups(database: OpenDatabase): Promise<boolean> {
  const state = await database.db.selectFrom('rollup_state').select('version').where('id', '=', 1).executeTakeFirst();
  if (state?.version === ROLLUP_VERSION) return false;
  return database.db.transaction().execute(async (trx) => {
    // Claims the rebuild: another instance starting at the same time waits on this row, then finds it done.
    const claimed = await trx
      .updateTable('rollup_state')
      .set({ version: ROLLUP_VERSION })
      .where('id', '=', 1)
      .where('version', '<>', ROLLUP_VERSION)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return false;
    const programs = await trx.selectFrom('programs').select(['id', 'timezone', 'resolution_standard_days']).execute();
    await database.lockPrograms(
      trx,
      programs.map((p) => p.id),
    );
    // Then every shard (after the programs, as writers take theirs), so no writer of a program
    // created since the list was read adds to rows about to be deleted.
    await database.lockPrograms(trx, ALL_PROGRAMS_SHARDS);
    await trx.deleteFrom('rollups').execute();
    database.writtenRollups?.clear();
    const zones = new Map(programs.map((p) => [p.id, p.timezone]));
    const standards = new Map(
      programs.map((p) => [p.id, p.resolution_standard_days === null ? null : Number(p.resolution_standard_days)]),
    );
    // A chunk at a time in id order, so memory stays flat however many events are stored.
    for (let after = 0; ; ) {
      const events = await trx
        .selectFrom('events')
        .select(['id', 'program_id', 'kind', 'value', 'occurred_at', 'attributes'])
        .where('id', '>', after)
        .where('retracted_at', 'is', null)
        .orderBy('id')
        .limit(CHUNK)
        .execute();
      if (events.length === 0) return true;
      await applyRollupDeltas(trx, rollupDeltas(events, zones, 1, standards, ALL_PROGRAMS));
      after = Number(events[events.length - 1].id);
    }
  });
}
