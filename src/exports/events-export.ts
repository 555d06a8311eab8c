/**
 * `GET /export/events.csv` and `GET /export/events.ndjson`: every event `events(…)` would list
 * for the same arguments, oldest first, streamed. Pages are read by keyset (events/event-list.ts)
 * one at a time, and the next only once the socket has taken the last: memory stays at one page
 * whatever the size, and a client that stops reading stops the reads (one that leaves ends them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../context.js';
import { checkedEventQuery } from '../events/drilldown.service.js';
import { type EventTuple, everyEventTuple } from '../events/event-list.js';
import { type Attribute, attributeMap, parseAttributes } from '../events/attributes.js';
import { csvRecord } from './csv.js';
import { ExportBuffer } from './export-buffer.js';
import { ExportParams, fileName } from './export-params.js';
import { answerError, readerContext, send, write } from './http-answers.js';
import { isoInstant } from './iso-instant.js';

export const EVENTS_CSV_PATH = '/export/events.csv';
export const EVENTS_NDJSON_PATH = '/export/events.ndjson';

/** Events per read: large enough that a query's cost is small beside its rows, small enough to hold. */
const PAGE = 2_000;

const COLUMNS = ['id', 'programId', 'kind', 'caseId', 'value', 'reason', 'occurredAt', 'recordedAt', 'retractedAt'];

const instant = (ms: number | null) => (ms === null ? null : isoInstant(Number(ms)));

interface Format {
  contentType: string;
  extension: string;
  header(dimensions: readonly string[]): string;
  /** A page's records, into `out`. */
  rows(events: readonly EventTuple[], dimensions: readonly string[], out: ExportBuffer): void;
}

const CSV: Format = {
  contentType: 'text/csv; charset=utf-8; header=present',
  extension: 'csv',
  header: (dimensions) => csvRecord([...COLUMNS, ...dimensions.map((key) => `attr.${key}`)]),
  rows(events, dimensions, out) {
    // Text cells go through csvCell (quoting and formula guard); the kind (a name of capitals)
    // needs neither.
    for (const [id, programId, kind, caseId, value, reason, occurredAt, recordedAt, retractedAt, json] of events) {
      out.number(Number(id));
      out.comma();
      out.cell(programId);
      out.comma();
      out.text(kind);
      out.comma();
      out.cell(caseId);
      out.comma();
      if (value !== null) out.number(Number(value));
      out.comma();
      out.cell(reason);
      out.comma();
      out.instant(occurredAt);
      out.comma();
      out.instant(recordedAt);
      out.comma();
      out.instant(retractedAt);
      if (dimensions.length > 0) {
        const attributes = attributeMap(json);
        for (const key of dimensions) {
          out.comma();
          out.cell(attributes[key] ?? null);
        }
      }
      out.endRecord();
    }
  },
};

/** One MetricEvent per line, as GraphQL shows it (and as EventInput takes it back, attributes included). */
const NDJSON: Format = {
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'ndjson',
  header: () => '',
  rows(events, _, out) {
    for (const [id, programId, kind, caseId, value, reason, occurredAt, recordedAt, retractedAt, json] of events) {
      const attributes: Attribute[] = parseAttributes(json);
      out.text(
        JSON.stringify({
          id: String(id),
          programId,
          kind,
          caseId,
          value: value === null ? null : Number(value),
          reason,
          occurredAt: instant(occurredAt),
          recordedAt: instant(recordedAt),
          retractedAt: instant(retractedAt),
          attributes,
        }),
      );
      out.newline();
    }
  },
};

export const serveEventsCsv = (req: IncomingMessage, res: ServerResponse, parts: { services: Services }) =>
  serveEvents(req, res, parts.services, CSV);
export const serveEventsNdjson = (req: IncomingMessage, res: ServerResponse, parts: { services: Services }) =>
  serveEvents(req, res, parts.services, NDJSON);

async function serveEvents(req: IncomingMessage, res: ServerResponse, services: Services, format: Format) {
  let query: Awaited<ReturnType<typeof checkedEventQuery>>;
  let dimensions: string[];
  try {
    const ctx = await readerContext(req, services);
    const params = ExportParams.of(req.url);
    const args = {
      programId: params.required('programId'),
      from: params.instant('from'),
      to: params.instant('to'),
      kinds: params.kinds(),
      caseId: params.text('caseId'),
      includeRetracted: params.boolean('includeRetracted'),
      filter: params.filter(),
    };
    params.checkNoOthers();
    query = { ...(await checkedEventQuery(ctx, args)), orderBy: 'OCCURRED_AT_ASC' };
    dimensions = (await ctx.loaders.dimensions.load(query.program.id)).map((d) => d.key);
  } catch (error) {
    if (answerError(res, error)) return;
    throw error;
  }
  res.writeHead(200, {
    'content-type': format.contentType,
    'content-disposition': `attachment; filename="${fileName('events', query.program.id, format.extension)}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  try {
    if (!(await write(res, format.header(dimensions)))) return;
    // Two buffers: a page is written into one while the socket takes the other. Each page is
    // written whole as soon as it is read, so its rows die young.
    const buffers = [new ExportBuffer(), new ExportBuffer()];
    let sending: Promise<boolean> | null = null;
    let next = 0;
    for await (const page of everyEventTuple(services.db, query, PAGE)) {
      const out = buffers[next];
      next ^= 1;
      out.clear();
      format.rows(page, dimensions, out);
      if (sending && !(await sending)) return;
      sending = send(res, out.written());
    }
    if (sending && !(await sending)) return;
    res.end();
  } catch (error) {
    // Past the header the status is sent: cut the answer short, so the client sees it incomplete.
    res.destroy(error as Error);
    throw error;
  }
}
