/**
 * The service's side of the SQLite writer thread (writer-thread.worker.ts; see index.ts for the
 * whole path): sends it each group of units, with their programs' zones, and hands back what it wrote. The thread starts with the first write, and again after a
 * failure; it holds the process open only while writes are on their way.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { GraphQLError, type GraphQLErrorExtensions } from 'graphql';
import type { ChangeNotice } from '../realtime/pubsub.js';
import type { EventWriter } from './event-writer.js';
import { EVENT_KINDS } from '../kpis/registry.js';
import type { ValidEvent } from '../events/validate.js';
import type { SpooledOutcome, SpooledWrite } from './spooled-write.js';
import type { ProgramZones, RecordOutcome, UnitInput, Written } from './write-units.js';

interface Transferred {
  message: string;
  extensions?: GraphQLErrorExtensions;
  code?: string;
}

export type Request =
  | { type: 'write'; id: number; units: PackedUnits; zones: ProgramZones; now: number }
  | ({ type: 'spooled'; id: number } & SpooledWrite)
  | { type: 'close' };

/**
 * Units as columns: a message copies typed arrays and arrays of strings several times faster than
 * a thousand objects of eight fields each. Reasons and idempotency keys, mostly absent, are sent
 * only when some event has one.
 */
export interface PackedUnits {
  units: { keyId: string | null; indexed: boolean; returnEvents: boolean; count: number }[];
  kinds: Uint8Array;
  programIds: string[];
  caseIds: string[];
  /** NaN for none. */
  values: Float64Array;
  occurredAt: Float64Array;
  occurredAtGiven: Uint8Array;
  reasons: (string | null)[] | null;
  idempotencyKeys: (string | null)[] | null;
  /** Attributes as their JSON (attributes.ts), when some event has any. */
  attributes: (string | null)[] | null;
}

export function packUnits(units: UnitInput[]): PackedUnits {
  const n = units.reduce((sum, u) => sum + u.events.length, 0);
  const packed: PackedUnits = {
    units: units.map(({ keyId, indexed, returnEvents, events }) => ({
      keyId,
      indexed,
      returnEvents,
      count: events.length,
    })),
    kinds: new Uint8Array(n),
    programIds: new Array(n),
    caseIds: new Array(n),
    values: new Float64Array(n),
    occurredAt: new Float64Array(n),
    occurredAtGiven: new Uint8Array(n),
    reasons: null,
    idempotencyKeys: null,
    attributes: null,
  };
  let i = 0;
  for (const unit of units) {
    for (const e of unit.events) {
      packed.kinds[i] = EVENT_KINDS.indexOf(e.kind);
      packed.programIds[i] = e.programId;
      packed.caseIds[i] = e.caseId;
      packed.values[i] = e.value ?? Number.NaN;
      packed.occurredAt[i] = e.occurredAt;
      packed.occurredAtGiven[i] = e.occurredAtGiven ? 1 : 0;
      if (e.reason !== null) (packed.reasons ??= new Array<string | null>(n).fill(null))[i] = e.reason;
      if (e.idempotencyKey !== null)
        (packed.idempotencyKeys ??= new Array<string | null>(n).fill(null))[i] = e.idempotencyKey;
      if (e.attributes) (packed.attributes ??= new Array<string | null>(n).fill(null))[i] = e.attributes;
      i++;
    }
  }
  return packed;
}

export function unpackUnits(packed: PackedUnits): UnitInput[] {
  let i = 0;
  return packed.units.map(({ count, ...unit }) => ({
    ...unit,
    events: Array.from({ length: count }, (): ValidEvent => {
      const value = packed.values[i];
      const event: ValidEvent = {
        kind: EVENT_KINDS[packed.kinds[i]],
        programId: packed.programIds[i],
        caseId: packed.caseIds[i],
        value: Number.isNaN(value) ? null : value,
        reason: packed.reasons?.[i] ?? null,
        occurredAt: packed.occurredAt[i],
        occurredAtGiven: packed.occurredAtGiven[i] === 1,
        idempotencyKey: packed.idempotencyKeys?.[i] ?? null,
        attributes: packed.attributes?.[i] ?? null,
      };
      i++;
      return event;
    }),
  }));
}
export type Reply =
  | {
      type: 'written';
      id: number;
      outcomes: (RecordOutcome | { refused: Transferred })[];
      notices: ChangeNotice[];
      commits: number;
    }
  | { type: 'spooled'; id: number; outcome: SpooledOutcome }
  | { type: 'failed'; id: number; error: Transferred };

/** Errors cross threads as plain data: a GraphQL error keeps its extensions, a database error its code. */
export function toTransfer(error: Error): Transferred {
  if (error instanceof GraphQLError) return { message: error.message, extensions: error.extensions };
  return { message: error.message, code: (error as { code?: string }).code };
}

function fromTransfer(error: Transferred): Error {
  if (error.extensions) return new GraphQLError(error.message, { extensions: error.extensions });
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}

/**
 * The thread's entry, beside this module: the TypeScript source, loaded through tsx by a small
 * boot module (`npm run dev`, tests, benchmarks), or, where the service runs compiled
 * (scripts/build-server.ts: `npm start`, test/helpers/process.ts), the compiled entry beside it.
 */
function threadEntry(): { file: URL; workerData: Record<string, string> } {
  const source = new URL('./writer-thread.worker.ts', import.meta.url);
  if (existsSync(source))
    return { file: new URL('./writer-thread.boot.mjs', import.meta.url), workerData: { entry: source.href } };
  return { file: new URL('./writer-thread.worker.mjs', import.meta.url), workerData: {} };
}

/**
 * The writer thread's young generation: 4 MB semi-spaces (V8 counts three of them), not V8's
 * default 16 MB. What it keeps lives in its old generation (rollup rows it wrote, written-rows.ts);
 * what a commit makes dies with the commit, and left to grow, the young generation took 32 MB of
 * the ingesting server's RSS for nothing (bench/rss-ingest.ts: the thread's new space 32 MB, 8 MB
 * capped). The writer's CPU an event did not move with 2 or 4 MB semi-spaces (bench/write-cpu.ts
 * under `node --max-semi-space-size`, within the noise of a loaded machine).
 */
const WRITER_YOUNG_GENERATION_MB = 12;

export class ThreadWriter implements EventWriter {
  readonly depth = Number.POSITIVE_INFINITY;
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(written: never): void; reject(error: Error): void }>();

  constructor(private readonly databaseUrl: string) {}

  write(units: UnitInput[], zones: ProgramZones, now: number): Promise<Written> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Written>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ type: 'write', id, units: packUnits(units), zones, now } satisfies Request);
    });
  }

  writeSpooled(request: SpooledWrite): Promise<SpooledOutcome> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<SpooledOutcome>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ type: 'spooled', id, ...request } satisfies Request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // The thread closes its connection (a clean WAL), then ends.
    worker.postMessage({ type: 'close' } satisfies Request);
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const entry = threadEntry();
    const worker = new Worker(entry.file, {
      workerData: { ...entry.workerData, databaseUrl: this.databaseUrl },
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (!waiting) return;
      if (reply.type === 'failed') waiting.reject(fromTransfer(reply.error));
      else if (reply.type === 'spooled') waiting.resolve(reply.outcome as never);
      else
        waiting.resolve({
          notices: reply.notices,
          commits: reply.commits,
          outcomes: reply.outcomes.map((o) => ('refused' in o ? fromTransfer(o.refused) : o)),
        } satisfies Written as never);
    });
    // A thread that fails (it could not open the file, say) fails what it was asked; the next write starts another.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
