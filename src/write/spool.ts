/**
 * A spool: validated events waiting in a temporary file (one JSON array per line, with the line of
 * the file they came from), so that an import can read its whole body before writing any of it
 * (`atomic`, `dryRun`) with memory that stays flat. The writer reads it back in chunks, in whichever
 * thread writes (writer-thread.worker.ts reads it by its path).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ValidEvent } from '../events/validate.js';

export interface SpooledEvent {
  line: number;
  event: ValidEvent;
}

type Packed = [
  line: number,
  kind: ValidEvent['kind'],
  programId: string,
  caseId: string,
  value: number | null,
  reason: string | null,
  occurredAt: number,
  occurredAtGiven: 0 | 1,
  idempotencyKey: string | null,
  attributes: string | null,
];

export class Spool {
  private out: WriteStream;
  count = 0;

  private constructor(
    private readonly dir: string,
    readonly path: string,
  ) {
    this.out = createWriteStream(path);
  }

  static async create(): Promise<Spool> {
    const dir = await mkdtemp(join(tmpdir(), 'kpi-import-'));
    return new Spool(dir, join(dir, 'events.ndjson'));
  }

  /** Appends one event; waits while the file's buffer is full. */
  async add(line: number, e: ValidEvent): Promise<void> {
    const packed: Packed = [
      line,
      e.kind,
      e.programId,
      e.caseId,
      e.value,
      e.reason,
      e.occurredAt,
      e.occurredAtGiven ? 1 : 0,
      e.idempotencyKey,
      e.attributes ?? null,
    ];
    this.count++;
    if (!this.out.write(`${JSON.stringify(packed)}\n`)) await once(this.out, 'drain');
  }

  /** Flushes the file, ready to be read by its path. */
  async finish(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }

  /** Removes the file (also when it was never finished). */
  async remove(): Promise<void> {
    if (!this.out.closed) this.out.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The spooled events back, `size` at a time, in the order they were added. */
export async function* readSpool(path: string, size: number): AsyncGenerator<SpooledEvent[]> {
  let chunk: SpooledEvent[] = [];
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text === '') continue;
    const [line, kind, programId, caseId, value, reason, occurredAt, given, idempotencyKey, attributes] = JSON.parse(
      text,
    ) as Packed;
    chunk.push({
      line,
      event: {
        kind,
        programId,
        caseId,
        value,
        reason,
        occurredAt,
        occurredAtGiven: given === 1,
        idempotencyKey,
        attributes,
      },
    });
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
