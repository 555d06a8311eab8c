/**
 * The SQLite writer thread: its own connection to the database file, running each transaction the
 * service's thread sends (see writer-thread.ts) and answering after the commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/database.js';
import { inProcessWriter } from './event-writer.js';
import { toTransfer, unpackUnits, type Reply, type Request } from './writer-thread.js';

const database = await openDatabase(workerData.databaseUrl as string);
const writer = inProcessWriter(database);
const port = parentPort!;

port.on('message', async (request: Request) => {
  if (request.type === 'close') {
    await database.close();
    process.exit(0);
  }
  let reply: Reply;
  try {
    const written = await writer.write(unpackUnits(request.units), request.now);
    reply = { type: 'written', id: request.id, notices: written.notices, outcomes: written.outcomes.map((o) => (o instanceof Error ? { refused: toTransfer(o) } : o)) };
  } catch (error) {
    reply = { type: 'failed', id: request.id, error: toTransfer(error as Error) };
  }
  port.postMessage(reply);
});
