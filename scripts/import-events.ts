/**
 * `npm run import -- FILE --url URL --key KEY [--format csv|ndjson] [--atomic] [--dry-run] [--program-id ID]`:
 * streams a CSV or NDJSON file to `POST /import/events` (README, "Importing events") without reading it
 * into memory, shows a progress line on stderr (rows the server has read, rows/s, errors so far, from
 * the server's progress lines), and prints the server's report on stdout. Exit code: 0 when every row
 * was taken, 1 when rows were rejected, 2 on a usage error, 3 when the import was refused or failed.
 * `--url` is the server's base (`http://127.0.0.1:4000`) or its import URL; `--key` may come from
 * KPI_API_KEY instead.
 */
import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npm run import -- FILE --url http://HOST:PORT --key KEY [--format csv|ndjson] [--atomic] [--dry-run] [--program-id ID]';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

interface Report {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; field: string | null; message: string }[];
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      format: { type: 'string' },
      atomic: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'program-id': { type: 'string' },
    },
  });
  const [file, ...rest] = positionals;
  const key = values.key ?? process.env.KPI_API_KEY;
  if (!file || rest.length > 0 || !values.url || !key) return null;
  const byExtension = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson' }[extname(file).toLowerCase()];
  const format = values.format ?? byExtension;
  if (format !== 'csv' && format !== 'ndjson') return null;
  const url = new URL(values.url);
  if (!url.pathname.endsWith('/import/events'))
    url.pathname = `${url.pathname.replace(/\/(graphql)?$/, '')}/import/events`;
  if (values.atomic) url.searchParams.set('atomic', 'true');
  if (values['dry-run']) url.searchParams.set('dryRun', 'true');
  if (values['program-id']) url.searchParams.set('programId', values['program-id']);
  return { file, key, format: format as keyof typeof CONTENT_TYPES, url };
}

const number = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  let args: ReturnType<typeof options>;
  try {
    args = options();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!args) {
    console.error(USAGE);
    return 2;
  }
  const { file, key, format, url } = args;
  const bytes = statSync(file).size;
  const started = performance.now();
  const tty = process.stderr.isTTY;
  const show = (text: string, last = false) => {
    if (tty) process.stderr.write(`\r\x1b[2K${text}${last ? '\n' : ''}`);
    else process.stderr.write(`${text}\n`);
  };

  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': CONTENT_TYPES[format],
      accept: 'application/x-ndjson',
      'content-length': String(bytes),
      // The file goes only once the server has checked the headers (key, role, type) and said 100
      // Continue: a refusal is read whole, where a large file sent into the socket the server had
      // closed on refusing it failed here with EPIPE before the answer was read.
      expect: '100-continue',
    },
  });
  const body = createReadStream(file);
  let sending = false;
  const sendBody = () => {
    if (sending) return;
    sending = true;
    clearTimeout(unanswered);
    body.pipe(req);
  };
  // A server or proxy that never says 100 Continue gets the file after a second anyway, as curl does.
  const unanswered = setTimeout(sendBody, 1_000);
  req.once('continue', sendBody);
  body.once('error', (error) => req.destroy(error));
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      clearTimeout(unanswered);
      resolve(res);
    });
    req.on('error', reject);
  });

  const res = await response;
  if (!String(res.headers['content-type']).startsWith('application/x-ndjson')) {
    let text = '';
    for await (const chunk of res) text += chunk;
    body.destroy();
    req.destroy();
    console.error(`import refused (${res.statusCode}): ${text}`);
    return 3;
  }
  let report: Report | null = null;
  let lastShown = 0;
  /** Rows the server said it had read: an atomic import refused reports no accepted rows, yet read them all. */
  let rowsRead = 0;
  for await (const text of createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (text === '') continue;
    const message = JSON.parse(text) as {
      progress?: { rows: number; rejected: number };
      report?: Report;
      error?: { code: string; message: string };
    };
    if (message.error) {
      show(`import failed: ${message.error.code}: ${message.error.message}`, true);
      return 3;
    }
    if (message.report) report = message.report;
    if (message.progress) {
      rowsRead = Math.max(rowsRead, message.progress.rows);
      const now = performance.now();
      if (now - lastShown < 200 && tty) continue;
      lastShown = now;
      const seconds = (now - started) / 1000;
      const { rows, rejected } = message.progress;
      show(`${number(rows)} rows, ${number(rows / seconds)} rows/s, ${number(rejected)} errors so far`);
    }
  }
  if (!report) {
    show('import failed: the server closed the connection before its report', true);
    return 3;
  }
  const seconds = (performance.now() - started) / 1000;
  const rows = Math.max(rowsRead, report.accepted + report.duplicates + report.rejected);
  show(
    `${number(rows)} rows in ${seconds.toFixed(1)} s, ${number(rows / seconds)} rows/s, ${number(report.rejected)} errors`,
    true,
  );
  console.log(JSON.stringify(report, null, 2));
  return report.rejected > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`import failed: ${error instanceof Error ? error.message : error}`);
    process.exit(3);
  },
);
