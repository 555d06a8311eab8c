/**
 * `GET /export/dashboard.csv`: a dashboard's series, one row per bucket with every KPI of the
 * registry; with `by=<dimension>` (or `program`) its breakdown instead, one row per value. The
 * arguments are the dashboard's (and the breakdown's `orderBy`, `descending`, `limit`), checked
 * by the same code as the GraphQL query.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../context.js';
import { MAX_BREAKDOWN_ROWS } from '../dashboards/breakdown.js';
import { loadDashboard } from '../dashboards/dashboard.service.js';
import { KPI_KEYS, KPIS, type KpiInputs, type KpiKey } from '../kpis/registry.js';
import { GRANULARITIES } from '../kpis/time.js';
import { type Cell, csvRecord } from './csv.js';
import { ExportParams, fileName } from './export-params.js';
import { answerError, readerContext, write } from './http-answers.js';

export const DASHBOARD_CSV_PATH = '/export/dashboard.csv';

/** Every KPI column, as the Dashboard type names them, then the two counts it adds. */
const KPI_COLUMNS = [...KPIS.map((k) => k.field), 'resolvedCases', 'satisfactionResponses'];

function kpiCells(a: KpiInputs): Cell[] {
  return [...KPIS.map((k) => (k.unit === 'count' ? (k.compute(a) ?? 0) : k.compute(a))), a.resCount, a.satCount];
}

const ROWS_PER_WRITE = 200;

export async function serveDashboardCsv(
  req: IncomingMessage,
  res: ServerResponse,
  { services }: { services: Services },
) {
  let header: Cell[];
  let rows: Cell[][];
  let programId: string | null;
  try {
    const ctx = await readerContext(req, services);
    const params = ExportParams.of(req.url);
    programId = params.text('programId');
    const args = {
      programId,
      from: params.instant('from'),
      to: params.instant('to'),
      granularity: params.oneOf('granularity', GRANULARITIES),
      timezone: params.text('timezone'),
      filter: params.filter(),
    };
    const by = params.text('by');
    const breakdown = {
      by: by ?? '',
      orderBy: params.oneOf('orderBy', KPI_KEYS as KpiKey[]),
      descending: params.boolean('descending') ?? true,
      limit: params.integer('limit') ?? MAX_BREAKDOWN_ROWS,
    };
    params.checkNoOthers();
    const view = await loadDashboard(ctx, args);
    if (by === null) {
      header = ['start', ...KPI_COLUMNS];
      rows = (await view.series()).map((p) => [new Date(p.start).toISOString(), ...kpiCells(p.aggregate)]);
    } else {
      header = ['value', ...KPI_COLUMNS];
      // Read before the answer starts, so a bad `by` or `limit` is still a 400.
      rows = (await view.breakdown(breakdown)).map((r) => [r.value, ...kpiCells(r.aggregate)]);
    }
  } catch (error) {
    if (answerError(res, error)) return;
    throw error;
  }
  res.writeHead(200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${fileName('dashboard', programId, 'csv')}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  if (!(await write(res, csvRecord(header)))) return;
  for (let i = 0; i < rows.length; i += ROWS_PER_WRITE) {
    if (
      !(await write(
        res,
        rows
          .slice(i, i + ROWS_PER_WRITE)
          .map(csvRecord)
          .join(''),
      ))
    )
      return;
  }
  res.end();
}
