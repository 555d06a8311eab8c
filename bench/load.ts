/**
 * The load generator, in its own process so it never competes with the server's event loop:
 * `concurrency` clients on keep-alive connections each send one request, await the answer, send
 * the next, until `durationMs` has passed. Reports requests/s and latency percentiles.
 */
import { Agent, request } from 'node:http';
import { batchEvents, type BatchOrder } from './batch-events.js';

export interface LoadJob {
  url: string;
  authorization: string | null;
  /** Which request body to send: see bodies below. */
  body: 'hello' | 'single' | 'batch';
  programIds: string[];
  concurrency: number;
  durationMs: number;
  /** Events per recordEvents call, and their times (see batch-events.ts). */
  batchSize?: number;
  order?: BatchOrder;
  /** Batch events carry office, channel and case type (bench/dimensions.ts). */
  attributes?: boolean;
}

export interface LoadResult {
  requests: number;
  failures: number;
  firstFailure: string | null;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

const RECORD_ONE = `mutation ($input: RecordResolutionTimeInput!) { recordResolutionTime(input: $input) { duplicate event { id } } }`;
const RECORD_MANY = `mutation ($events: [EventInput!]!) { recordEvents(events: $events) { accepted duplicates } }`;

function bodyOf(job: LoadJob, n: number, now: number): string {
  const program = job.programIds[n % job.programIds.length];
  if (job.body === 'hello') return JSON.stringify({ query: '{ hello }' });
  if (job.body === 'single') {
    return JSON.stringify({
      query: RECORD_ONE,
      variables: { input: { programId: program, caseId: `S-${process.pid}-${n}`, days: 0.5 + (n % 97) / 7 } },
    });
  }
  const order = job.order ?? 'scattered';
  const events = batchEvents(
    n,
    job.batchSize ?? 1000,
    job.programIds,
    order === 'live' ? Date.now() : now,
    process.pid,
    order,
    job.attributes ?? false,
  );
  return JSON.stringify({ query: RECORD_MANY, variables: { events } });
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const url = new URL(job.url);
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  let sent = 0;
  const started = performance.now();
  const deadline = started + job.durationMs;
  const now = Date.now();

  const send = (body: string) =>
    new Promise<string>((resolve, reject) => {
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      };
      if (job.authorization) headers.authorization = job.authorization;
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  async function client() {
    while (performance.now() < deadline) {
      const body = bodyOf(job, sent++, now);
      const t0 = performance.now();
      let answer: string;
      try {
        answer = await send(body);
      } catch (error) {
        answer = `{"errors":[{"message":${JSON.stringify(String(error))}}]}`;
      }
      latencies.push(performance.now() - t0);
      if (answer.includes('"errors"') || !answer.includes('"data"')) {
        failures++;
        firstFailure ??= answer.slice(0, 300);
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    failures,
    firstFailure,
    seconds,
    perSecond: latencies.length / seconds,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
  };
}

if (process.send) {
  process.on('message', async (job: LoadJob) => {
    process.send!(await runLoad(job));
    process.exit(0);
  });
}
