/**
 * A real HTTP webhook receiver on a free local port, closed after the test that opened it.
 * `answer` decides each request's status (or 'hang': never answer).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status the receiver answered. */
  status: number;
  json: { eventId: string; type: string; alert: { id: string; state: string; value: number; programId: string } };
}

export async function receiver(answer: (request: number) => number | 'hang' = () => 200) {
  const requests: Received[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const status = answer(requests.length);
      if (status === 'hang') return;
      requests.push({ headers: req.headers, body, status, json: JSON.parse(body) });
      res.writeHead(status).end();
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    /** Resolves once `count` requests satisfying `test` have arrived. */
    until(test: (r: Received) => boolean, count = 1) {
      return new Promise<Received[]>((resolve) => {
        const check = () => {
          const found = requests.filter(test);
          if (found.length < count) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
