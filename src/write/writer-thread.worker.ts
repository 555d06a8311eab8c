/**
 * The SQLite writer thread (see index.ts for the whole path): its own connection to the database
 * file, running the transactions the service's thread sends (see writer-thread.ts) and answering
 * each after the commit. Whatever
 * waits in its queue when a transaction begins joins it: one commit (one fsync, one rewrite of each
 * rollup row) for all of it.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/database.js';
import { inProcessWriter } from './event-writer.js';
import { toTransfer, unpackUnits, type Reply, type Request } from './writer-thread.js';
import { MAX_EVENTS_PER_COMMIT, type UnitInput, type Written } from './write-units.js';
import { writeSpooled } from './spooled-write.js';

type WriteRequest = Extract<Request, { type: 'write' }>;
type SpooledRequest = Extract<Request, { type: 'spooled' }>;

const database = await openDatabase(workerData.databaseUrl as string);
const writer = inProcessWriter(database);
const port = parentPort!;

port.on('message', async (first: Request) => {
  const requests: WriteRequest[] = [];
  // A whole spool is one transaction of its own, written after the merged one.
  const spooled: SpooledRequest[] = [];
  let closing = first.type === 'close';
  if (first.type === 'write') requests.push(first);
  if (first.type === 'spooled') spooled.push(first);
  let events = requests.reduce((n, r) => n + r.units.kinds.length, 0);
  // Messages queued behind this one are taken now, synchronously, in order.
  while (!closing && events < MAX_EVENTS_PER_COMMIT) {
    const next = receiveMessageOnPort(port as never) as { message: Request } | undefined;
    if (!next) break;
    if (next.message.type === 'close') closing = true;
    else if (next.message.type === 'spooled') spooled.push(next.message);
    else {
      requests.push(next.message);
      events += next.message.units.kinds.length;
    }
  }
  if (requests.length > 0) await writeMerged(requests);
  for (const request of spooled) await writeSpool(request);
  if (closing) {
    await database.close();
    process.exit(0);
  }
});

/** One transaction for all the requests; should it fail as a whole, each request alone, so each hears only its own fate. */
async function writeMerged(requests: WriteRequest[]): Promise<void> {
  const unitsOf = requests.map((r) => unpackUnits(r.units));
  const now = Math.max(...requests.map((r) => r.now));
  const zones = new Map(requests.flatMap((r) => [...r.zones]));
  let written: Written;
  try {
    written = await writer.write(unitsOf.flat(), zones, now);
  } catch (error) {
    if (requests.length === 1) return reply({ type: 'failed', id: requests[0].id, error: toTransfer(error as Error) });
    for (const [i, request] of requests.entries()) await writeAlone(request, unitsOf[i]);
    return;
  }
  let at = 0;
  requests.forEach((request, i) => {
    const outcomes = written.outcomes.slice(at, (at += unitsOf[i].length));
    // The change notices and the commit go with the last answer.
    const last = i === requests.length - 1;
    reply(answer(request.id, { outcomes, notices: last ? written.notices : [], commits: last ? 1 : 0 }));
  });
}

async function writeAlone(request: WriteRequest, units: UnitInput[]): Promise<void> {
  try {
    reply(answer(request.id, await writer.write(units, request.zones, request.now)));
  } catch (error) {
    reply({ type: 'failed', id: request.id, error: toTransfer(error as Error) });
  }
}

async function writeSpool({ id, type: _, ...request }: SpooledRequest): Promise<void> {
  try {
    reply({ type: 'spooled', id, outcome: await writeSpooled(database, request) });
  } catch (error) {
    reply({ type: 'failed', id, error: toTransfer(error as Error) });
  }
}

function answer(id: number, written: Written): Reply {
  return {
    type: 'written',
    id,
    notices: written.notices,
    commits: written.commits,
    outcomes: written.outcomes.map((o) => (o instanceof Error ? { refused: toTransfer(o) } : o)),
  };
}

function reply(message: Reply): void {
  port.postMessage(message);
}
