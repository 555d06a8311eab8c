/**
 * Graceful shutdown of a real server process on SIGTERM: it stops taking new requests, answers
 * (and commits) the one in flight, judges the alert that write raised so its notification reaches
 * the outbox, closes every live socket with 1001, and exits 0 (main.ts gives up with 1 after 10 s).
 */
import { request } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import {
  CreateProgramDocument,
  CreateWebhookDocument,
  LiveDashboardDocument,
  RecordEventsDocument,
} from './generated/operations.js';
import { ADMIN_KEY, freshDatabaseUrl } from './helpers/app.js';
import { startServer } from './helpers/process.js';
import { connect } from './helpers/ws.js';

/**
 * A POST whose headers the server has taken (it answered `100 Continue`, so its request handler
 * runs) but whose body is still to come: a request in flight, held open until `finish()`.
 */
async function heldRequest(url: string, body: string) {
  const req = request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN_KEY}`,
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    },
  });
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.once('error', reject);
  });
  await new Promise<void>((resolve) => req.once('continue', () => resolve()));
  return { answer, finish: () => req.end(body) };
}

describe('graceful shutdown', () => {
  it('on SIGTERM refuses new work, answers and commits the request in flight, gets its notification to the outbox, closes sockets with 1001 and exits 0', async () => {
    const hook = createServer((_req, res) => res.end()).listen(0, '127.0.0.1');
    await new Promise((resolve) => hook.once('listening', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const databaseUrl = freshDatabaseUrl();
    // The longest debounce: the alert the in-flight write raises is still waiting to be judged when shutdown begins.
    const server = await startServer({
      DATABASE_URL: databaseUrl,
      ALERT_DEBOUNCE_MS: '800',
      RATE_LIMIT_PER_MINUTE: '0',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
    });
    let webhookId: string;
    try {
      expect(
        (await server.graphql(print(CreateProgramDocument), { input: { id: 'P', name: 'Shutdown', timezone: 'UTC' } }))
          .body.errors,
      ).toBeUndefined();
      const webhook = await server.graphql(print(CreateWebhookDocument), {
        input: { url: hookUrl, secret: 'a-secret-of-sixteen-chars', programId: 'P' },
      });
      expect(webhook.body.errors).toBeUndefined();
      webhookId = webhook.body.data.createWebhook.id;

      const live = connect(server.url.replace(/^http/, 'ws'), ADMIN_KEY);
      await live.subscribe(LiveDashboardDocument, { programId: 'P' }).next();

      // Resolution times of 30 days: the default rule (30-day average above 7 days) fires.
      const events = Array.from({ length: 500 }, (_, i) => ({
        programId: 'P',
        kind: 'RESOLUTION_TIME',
        caseId: `c${i}`,
        idempotencyKey: `k${i}`,
        value: 30,
      }));
      const inFlight = await heldRequest(
        server.url,
        JSON.stringify({ query: print(RecordEventsDocument), variables: { events } }),
      );

      server.child.kill('SIGTERM');
      // New requests are refused from the moment the signal is handled: no connection, or 503 SHUTTING_DOWN.
      for (;;) {
        const answer = await server
          .graphql('{ programs { id } }')
          .catch((error: Error) => ({ status: 0, body: error.message, headers: null }));
        if (answer.status === 200) continue; // the signal is not handled yet
        if (answer.status === 503) expect(answer.body.errors[0].extensions.code).toBe('SHUTTING_DOWN');
        else expect(answer.status).toBe(0);
        break;
      }

      inFlight.finish();
      const answered = await inFlight.answer;
      expect(answered.status).toBe(200);
      expect(answered.body).toEqual({ data: { recordEvents: { accepted: 500, duplicates: 0 } } });
      expect((await live.closed).code).toBe(1001);
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.output()).not.toMatch(/longer than 10 s/);
    } finally {
      hook.close();
    }

    const database = await openDatabase(databaseUrl);
    try {
      const stored = await database.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(500);
      const alerts = await database.db
        .selectFrom('alerts')
        .select(['id', 'state'])
        .where('program_id', '=', 'P')
        .execute();
      expect(alerts.map((a) => a.state)).toEqual(['FIRING']);
      const outbox = await database.db.selectFrom('notifications').select(['alert_id', 'webhook_id']).execute();
      expect(outbox).toEqual([{ alert_id: alerts[0].id, webhook_id: webhookId }]);
    } finally {
      await database.close();
    }
  }, 60_000);
});
