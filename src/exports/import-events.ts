/**
 * `POST /import/events`: a CSV or NDJSON file of events, streamed, of any length (the contract's
 * "Exports and imports over HTTP"). Each row goes through the record mutations' rules
 * (events/validate.ts, the program's access and dimensions), gets a derived idempotency key when
 * it names none (import-key.ts), and is written through the write path (write/): by default in
 * chunks of CHUNK rows, each a commit of its own, durable and published before the next is waited
 * for; with `atomic` or `dryRun`, the whole body is read first into a spool (write/spool.ts) and
 * then written in one transaction, committed only when every row passed (rolled back for a dry run).
 * The answer comes after the last commit: `{ accepted, duplicates, rejected, errors }`.
 *
 * Timeouts: the body may stream for as long as the file lasts; a body silent for
 * HTTP_REQUEST_TIMEOUT_MS is cut, as a client that went away (what was committed stays).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { actorOf, canRecord, canSeeProgram, type Caller } from '../auth/caller.js';
import type { Services } from '../context.js';
import { type EventInput, validateEvent, type ValidEvent } from '../events/validate.js';
import { exponentialBackoff } from '../client/retry.js';
import { keyRateLimited } from '../schema/errors.js';
import type { Logger } from '../metrics/logger.js';
import { FirstErrors } from '../write/first-errors.js';
import { Spool } from '../write/spool.js';
import { derivedIdempotencyKey } from './import-key.js';
import { BadHeader, csvRows, ndjsonRows, type ImportRow } from './import-rows.js';

export const IMPORT_PATH = '/import/events';

/**
 * Rows per commit when streaming: large enough to cost one commit per few milliseconds of rows.
 * (10,000 and 20,000 were tried: no difference in the writer thread's CPU a row beyond the noise.)
 */
export const CHUNK = 5_000;
/** Chunks handed to the write path and not yet committed: parsing runs ahead while one commits. */
const CHUNKS_IN_FLIGHT = 2;

/** What a progressive answer reports as the import goes (rows: read so far, the header aside). */
export interface ImportProgress {
  rows: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

export interface ImportReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; field: string | null; message: string }[];
}

/** A refusal of the whole request, before any row is stored. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A rate limit's GraphQL answer as this route's 429, with its Retry-After. */
const rateRefusal = (answer: GraphQLError) =>
  new Refusal(429, 'RATE_LIMITED', answer.message, { 'retry-after': String(answer.extensions.retryAfterSeconds) });

const FORMATS: Record<string, 'csv' | 'ndjson'> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
};

/** The route's handler (src/http/routes.ts). */
export async function serveImport(
  req: IncomingMessage,
  res: ServerResponse,
  { services, logger }: { services: Services; logger: Logger },
): Promise<void> {
  // With `Accept: application/x-ndjson` the answer is lines: `{"progress":…}` as rows are read and
  // committed, then `{"report":…}` (npm run import shows them). Refusals before the first line keep their status.
  const progressive = String(req.headers.accept ?? '').includes('application/x-ndjson');
  const line = (value: unknown) => {
    if (!res.headersSent)
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    res.write(`${JSON.stringify(value)}\n`);
  };
  let importer: Importer;
  try {
    importer = await Importer.open(req, services, progressive ? (progress) => line({ progress }) : null);
  } catch (error) {
    if (error instanceof Refusal) return refuse(req, res, error);
    throw error;
  }
  // The headers passed (key, role, rate, parameters, type): a client waiting to send the file may now.
  if (String(req.headers.expect ?? '').toLowerCase() === '100-continue') res.writeContinue();
  try {
    const report = await importer.run(req);
    if (report === null) return;
    // Stopped before the body's end (a row that cannot be read past): the rest is not read.
    const unread = !req.complete;
    if (unread) res.setHeader('connection', 'close');
    if (progressive) {
      line({ report });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(report));
    }
    if (unread) req.resume();
  } catch (error) {
    // The client went away, or its body was silent too long: what was committed stays; no one to answer.
    if (!req.complete && (req.destroyed || res.destroyed)) {
      logger.info({ err: error }, 'import cut off before its end');
      return;
    }
    if (error instanceof Refusal && !res.headersSent) return refuse(req, res, error);
    if (!res.headersSent) throw error;
    // Progress lines went out already: the failure is the last line.
    logger.error({ err: error }, 'import failed');
    const refusal = error instanceof Refusal ? error : new Refusal(500, 'INTERNAL_SERVER_ERROR', 'internal error');
    line({ error: { code: refusal.code, message: refusal.message } });
    res.end();
  }
}

function refuse(req: IncomingMessage, res: ServerResponse, { status, code, message, headers }: Refusal) {
  if (res.headersSent || res.destroyed) return;
  // The body is not read: the connection cannot carry another request after it.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close', ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
  req.resume();
}

interface Options {
  dryRun: boolean;
  atomic: boolean;
  /** Every row's program, when the request names one (checked before any row is read). */
  programId: string | null;
  format: 'csv' | 'ndjson';
}

class Importer {
  private readonly errors = new FirstErrors();
  private accepted = 0;
  private duplicates = 0;
  /** Per program: null when the caller may write it, else the error each of its rows gets. */
  private readonly programs = new Map<string, Error | null>();
  /** Per program and attribute key: whether the program declares that dimension. */
  private readonly dimensions = new Map<string, boolean>();

  /** Rows read so far (the header aside), valid or not. */
  private rows = 0;

  private constructor(
    private readonly services: Services,
    private readonly caller: Caller,
    private readonly options: Options,
    private readonly onProgress: ((progress: ImportProgress) => void) | null,
  ) {}

  static async open(
    req: IncomingMessage,
    services: Services,
    onProgress: ((progress: ImportProgress) => void) | null = null,
  ): Promise<Importer> {
    let caller: Caller;
    try {
      caller = await services.authenticator.authenticate(req.headers.authorization ?? null);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      // Counted against the client's address like every request without a valid key (RATE_LIMITED once spent).
      const answer = (await services.rateLimits.refuseUnauthenticated(req, error)) as GraphQLError;
      if (answer === error) throw new Refusal(401, 'UNAUTHENTICATED', error.message);
      throw rateRefusal(answer);
    }
    if (!canRecord(caller)) throw new Refusal(403, 'FORBIDDEN', 'only INTEGRATION and ADMIN keys may import events');
    const waitMs = await services.rateLimits.takeKey(actorOf(caller));
    if (waitMs > 0) throw rateRefusal(keyRateLimited(waitMs));
    const options = optionsOf(req);
    const importer = new Importer(services, caller, options, onProgress);
    if (options.programId !== null) {
      if (!canSeeProgram(caller, options.programId))
        throw new Refusal(403, 'FORBIDDEN', 'this key may not access the program named by programId');
      if (await importer.programError(options.programId))
        throw new Refusal(404, 'NOT_FOUND', `program "${options.programId}" was not found`);
    }
    return importer;
  }

  /** The report; null when the body was cut off (no one to answer). */
  async run(req: IncomingMessage): Promise<ImportReport | null> {
    // A body that stays silent this long is cut, as a client that went away; the timer only runs while
    // this side waits for bytes (a commit in progress pauses the body, not the clock, but takes far less).
    const silence = this.services.config.httpRequestTimeoutMs;
    req.socket.setTimeout(silence, () => req.destroy(new Error(`the body was silent for ${silence} ms`)));
    try {
      const rows =
        this.options.format === 'csv' ? csvRows(req, this.options.programId) : ndjsonRows(req, this.options.programId);
      if (this.options.atomic || this.options.dryRun) return await this.spooled(rows, req);
      return await this.streamed(rows, req);
    } catch (error) {
      if (error instanceof BadHeader) throw new Refusal(400, 'BAD_USER_INPUT', error.message);
      throw error;
    } finally {
      req.socket.setTimeout(0);
    }
  }

  /** Chunk by chunk, each committed (durable, published) as it fills. */
  private async streamed(rows: AsyncGenerator<ImportRow>, req: IncomingMessage): Promise<ImportReport> {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    const send = (chunk: Checked[]) => {
      const write = this.writeChunk(chunk).then(
        () => this.progress(),
        (error) => {
          failure ??= error;
        },
      );
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    };
    let chunk: Checked[] = [];
    try {
      for await (const row of rows) {
        const pending = this.check(row);
        const checked = pending instanceof Promise ? await pending : pending;
        if (checked === 'fatal') break;
        if (checked === null) continue;
        chunk.push(checked);
        if (chunk.length === CHUNK) {
          send(chunk);
          chunk = [];
          while (inFlight.size >= CHUNKS_IN_FLIGHT) await Promise.race(inFlight);
          if (failure) throw failure;
        }
      }
      assertComplete(req);
      if (chunk.length > 0) send(chunk);
    } finally {
      // Whatever was handed to the write path is committed (or refused) before this answers or gives up.
      await Promise.all(inFlight);
    }
    if (failure) throw failure;
    return this.report();
  }

  /** The whole body into a spool first; then one transaction, committed only if every row passed. */
  private async spooled(rows: AsyncGenerator<ImportRow>, req: IncomingMessage): Promise<ImportReport> {
    const spool = await Spool.create();
    try {
      const programIds = new Set<string>();
      for await (const row of rows) {
        const pending = this.check(row);
        const checked = pending instanceof Promise ? await pending : pending;
        if (checked === 'fatal') break;
        if (checked === null) continue;
        programIds.add(checked.event.programId);
        await spool.add(checked.line, checked.event);
        if (spool.count % CHUNK === 0) this.progress();
      }
      assertComplete(req);
      await spool.finish();
      req.socket.setTimeout(0);
      this.progress();
      const invalid = this.errors.count > 0;
      // An atomic import with an invalid row stores nothing: no need to write what would roll back.
      if (spool.count === 0 || (invalid && !this.options.dryRun))
        return { ...this.report(), accepted: 0, duplicates: 0 };
      const outcome = await this.services.recorder.recordSpooled(
        { path: spool.path, keyId: this.caller.keyId, commit: !this.options.dryRun },
        [...programIds],
      );
      for (const error of outcome.errors) this.errors.add(error);
      // The count of refusals the transaction found (its list holds only the first 100).
      this.errors.count += outcome.rejected - outcome.errors.length;
      const counted = outcome.committed || this.options.dryRun;
      return {
        ...this.report(),
        accepted: counted ? outcome.accepted : 0,
        duplicates: counted ? outcome.duplicates : 0,
      };
    } finally {
      await spool.remove();
    }
  }

  private progress(): void {
    this.onProgress?.({
      rows: this.rows,
      accepted: this.accepted,
      duplicates: this.duplicates,
      rejected: this.errors.count,
    });
  }

  private report(): ImportReport {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      rejected: this.errors.count,
      errors: this.errors.kept,
    };
  }

  /** One chunk, one unit of the write path; should it be refused as a unit, each row alone, so only bad rows fail. */
  private async writeChunk(chunk: Checked[]): Promise<void> {
    try {
      this.tally(
        await this.record(
          chunk.map((c) => c.event),
          true,
        ),
      );
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      await Promise.all(
        chunk.map(async ({ line, event }) => {
          try {
            this.tally(await this.record([event], false));
          } catch (rowError) {
            if (!isRowRefusal(rowError)) throw rowError;
            this.errors.addRefusal(line, rowError as Error);
          }
        }),
      );
    }
  }

  /** Records one unit, waiting while the write path is full (OVERLOADED) rather than failing the import. */
  private async record(events: ValidEvent[], indexed: boolean) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.services.recorder.record(events, { keyId: this.caller.keyId, indexed, returnEvents: false });
      } catch (error) {
        if ((error as GraphQLError).extensions?.code !== 'OVERLOADED') throw error;
        // 10 ms doubling up to 500 ms, without jitter (fixedShare 1).
        await new Promise((resolve) => setTimeout(resolve, exponentialBackoff(attempt, 10, 500, 1, Math.random)));
      }
    }
  }

  private tally({ accepted, duplicates }: { accepted: number; duplicates: number }): void {
    this.accepted += accepted;
    this.duplicates += duplicates;
  }

  /**
   * A row checked as a record mutation checks its event: the rules, the program (the key may write
   * it, it exists), its attributes (declared dimensions); with its idempotency key, derived when
   * it names none. Null for a refused row (its error reported), 'fatal' when the body cannot be
   * read past it. Synchronous once its program and attribute keys have been looked up (every row
   * but the first of each): a promise a row cost more than the checks.
   */
  private check(row: ImportRow): CheckResult | Promise<CheckResult> {
    this.rows++;
    if ('error' in row) {
      this.errors.add(row.error);
      return row.fatal ? 'fatal' : null;
    }
    const { programId, attributes } = row.input;
    const known =
      this.programs.has(programId) &&
      (!attributes || attributes.every(({ key }) => this.dimensions.has(dimensionKey(programId, key))));
    if (known) return this.checkKnown(row);
    return this.lookUp(programId, attributes).then(() => this.checkKnown(row));
  }

  /** Caches what checkKnown needs of this program and these keys (errors are the row's, found there). */
  private async lookUp(programId: string, attributes: EventInput['attributes']): Promise<void> {
    if (!this.programs.has(programId)) await this.programError(programId);
    if (this.programs.get(programId) || !attributes) return;
    for (const { key } of attributes) if (typeof key === 'string') await this.declares(programId, key);
  }

  private checkKnown({ line, input, columns }: Extract<ImportRow, { input: EventInput }>): CheckResult {
    try {
      if (this.options.programId !== null && input.programId !== this.options.programId)
        throw fieldFailure(
          'programId',
          `programId must be "${this.options.programId}", the program this import is for`,
        );
      const event = validateEvent(input, this.services.now());
      const refused = this.programs.get(event.programId);
      if (refused) throw refused;
      if (input.attributes) {
        for (const [i, { key }] of input.attributes.entries()) {
          if (!this.dimensions.get(dimensionKey(event.programId, key))) {
            const column = columns?.[i];
            throw fieldFailure(
              column ?? `attributes[${i}].key`,
              `"${key}" is not a dimension of program "${event.programId}"`,
            );
          }
        }
      }
      event.idempotencyKey ??= derivedIdempotencyKey(event);
      return { line, event };
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      this.errors.addRefusal(line, error as Error);
      return null;
    }
  }

  /** Null when the caller may write `programId` and it exists, else the error (remembered). */
  async programError(programId: string): Promise<Error | null> {
    let refused: Error | null = null;
    try {
      // The row's own programId is not echoed: the report names the line, and holds nothing of other programs.
      if (!canSeeProgram(this.caller, programId))
        throw fieldFailure('programId', 'this key may not access the program this row names', 'FORBIDDEN');
      const zones = await this.services.recorder.programs.zonesOf(this.services.db, [programId]);
      if (!zones.has(programId))
        refused = fieldFailure('programId', `program "${programId}" was not found`, 'NOT_FOUND');
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      refused = error as Error;
    }
    // Programs are never deleted: a found one stays found. A missing one may be created meanwhile, so
    // it is remembered only for this import.
    this.programs.set(programId, refused);
    return refused;
  }

  private async declares(programId: string, key: string): Promise<boolean> {
    const k = dimensionKey(programId, key);
    let known = this.dimensions.get(k);
    if (known === undefined) {
      known = (await this.services.recorder.programs.dimension(this.services.db, programId, key)) !== undefined;
      this.dimensions.set(k, known);
    }
    return known;
  }
}

interface Checked {
  line: number;
  event: ValidEvent;
}

type CheckResult = Checked | null | 'fatal';

const dimensionKey = (programId: string, key: string) => `${programId}\u0000${key}`;

/** An error a row (or a unit of rows) can cause: any of the contract's codes, never an internal error. */
function isRowRefusal(error: unknown): boolean {
  const code = (error as GraphQLError | undefined)?.extensions?.code;
  return error instanceof GraphQLError && typeof code === 'string' && code !== 'OVERLOADED';
}

function fieldFailure(field: string, message: string, code = 'BAD_USER_INPUT'): GraphQLError {
  return new GraphQLError(message, { extensions: { code, field } });
}

/** A body that ended without the client finishing it (disconnected) is not an import to answer. */
function assertComplete(req: Readable & { complete?: boolean }): void {
  if (req.complete === false) throw new Error('the request body was cut off');
}

function optionsOf(req: IncomingMessage): Options {
  const url = new URL(req.url ?? '/', 'http://import');
  const flag = (name: string): boolean => {
    const value = url.searchParams.get(name);
    if (value === null || value === 'false') return false;
    if (value === 'true' || value === '') return true;
    throw new Refusal(400, 'BAD_USER_INPUT', `${name} must be true or false`);
  };
  for (const name of url.searchParams.keys()) {
    if (!['dryRun', 'atomic', 'programId'].includes(name))
      throw new Refusal(
        400,
        'BAD_USER_INPUT',
        `"${name}" is not a parameter of ${IMPORT_PATH} (dryRun, atomic, programId)`,
      );
  }
  const [type, ...parameters] = String(req.headers['content-type'] ?? '')
    .split(';')
    .map((part) => part.trim().toLowerCase());
  const format = FORMATS[type];
  if (!format)
    throw new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be text/csv or application/x-ndjson, in UTF-8');
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice(8);
  if (charset && charset !== 'utf-8' && charset !== 'utf8')
    throw new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', `the body must be UTF-8, not ${charset}`);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity')
    throw new Refusal(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `content-encoding ${encoding} is not taken: send the file as it is`,
    );
  const programId = url.searchParams.get('programId');
  if (programId === '') throw new Refusal(400, 'BAD_USER_INPUT', 'programId must not be empty');
  return { dryRun: flag('dryRun'), atomic: flag('atomic'), programId, format };
}
