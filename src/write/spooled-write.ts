/**
 * One transaction for a whole spool (spool.ts): an `atomic` import, or a `dryRun`, which is the
 * same transaction rolled back. Every event is its own unit, so each row hears its own fate
 * (a CONFLICT, a dimension past maxValues) with its line, exactly as a real import would; the
 * transaction commits only when asked and no row was refused. It holds the write lock (and on
 * SQLite the file's one writer) from its first chunk to its commit: other writes wait meanwhile.
 */
import type { OpenDatabase } from '../db/database.js';
import type { ChangeNotice } from '../realtime/pubsub.js';
import { forgetTakenValues } from './dimension-values.js';
import { FirstErrors, type LineError } from './first-errors.js';
import { readSpool } from './spool.js';
import { writeUnits, type ProgramZones } from './write-units.js';

export interface SpooledWrite {
  path: string;
  keyId: string | null;
  /** The zone of every program the spool names. */
  zones: ProgramZones;
  now: number;
  /** False: roll back whatever happens (a dry run). True: commit unless a row was refused. */
  commit: boolean;
}

export interface SpooledOutcome {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The first 100, by line. */
  errors: LineError[];
  /** Whether the transaction committed; the notices are to publish only then. */
  committed: boolean;
  notices: ChangeNotice[];
}

/** Events per writeUnits call: the unit of work inside the one transaction. */
const CHUNK = 5_000;

class RolledBack extends Error {
  constructor(readonly outcome: SpooledOutcome) {
    super('rolled back');
  }
}

export async function writeSpooled(database: OpenDatabase, request: SpooledWrite): Promise<SpooledOutcome> {
  const { path, keyId, zones, now } = request;
  try {
    return await database.db.transaction().execute(async (trx) => {
      const errors = new FirstErrors();
      let accepted = 0;
      let duplicates = 0;
      const notices = new Map<string, ChangeNotice>();
      for await (const chunk of readSpool(path, CHUNK)) {
        const units = chunk.map(({ event }) => ({ events: [event], keyId, indexed: false, returnEvents: false }));
        const written = await writeUnits(database, trx, units, zones, now);
        written.outcomes.forEach((outcome, i) => {
          if (outcome instanceof Error) errors.addRefusal(chunk[i].line, outcome);
          else {
            accepted += outcome.accepted;
            duplicates += outcome.duplicates;
          }
        });
        for (const notice of written.notices) {
          const known = notices.get(notice.programId);
          if (!known) notices.set(notice.programId, { ...notice });
          else {
            known.from = Math.min(known.from, notice.from);
            known.to = Math.max(known.to, notice.to);
          }
        }
      }
      const outcome: SpooledOutcome = {
        accepted,
        duplicates,
        rejected: errors.count,
        errors: errors.kept,
        committed: true,
        notices: [...notices.values()],
      };
      if (!request.commit || errors.count > 0) throw new RolledBack({ ...outcome, committed: false, notices: [] });
      return outcome;
    });
  } catch (error) {
    // Values of maxValues read inside this transaction may be ones it added itself: forget them all.
    forgetTakenValues(database);
    if (error instanceof RolledBack) return error.outcome;
    throw error;
  }
}
