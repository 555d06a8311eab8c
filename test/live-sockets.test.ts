/** The WebSocket side of live updates: who may connect, what is freed, how sockets close. */
import { describe, expect, it, vi } from 'vitest';
import {
  CreateApiKeyDocument,
  LiveDashboardDocument,
  RecordResolutionTimeDocument,
  RevokeApiKeyDocument,
} from './generated/operations.js';
import { ADMIN_KEY, testApp, type TestApp } from './helpers/app.js';
import { connect, listen, rawSocket } from './helpers/ws.js';

async function liveApp(env: Record<string, string> = {}) {
  const t = await testApp({ env: { LIVE_THROTTLE_MS: '0', ...env } });
  await t.program('A');
  const url = await listen(t);
  return { t, url, feed: t.app.services.feed };
}

/** A viewer key of program A: its secret and its id. */
async function viewerKey(t: TestApp) {
  const { createApiKey } = await t.ok(CreateApiKeyDocument, {
    input: { name: 'wall screen', role: 'VIEWER', programIds: ['A'] },
  });
  return { secret: createApiKey.key, id: createApiKey.apiKey.id };
}

describe('live sockets', () => {
  it('closes a socket with a missing, unknown or revoked key with 4403 before anything starts', async () => {
    const { t, url } = await liveApp();
    const revoked = await viewerKey(t);
    await t.ok(RevokeApiKeyDocument, { id: revoked.id });

    for (const key of [null, 'not-a-key', revoked.secret]) {
      const client = connect(url, key);
      const stream = client.subscribe(LiveDashboardDocument, { programId: 'A' });
      expect((await client.closed).code).toBe(4403);
      expect(stream.received).toEqual([]);
    }
    expect(t.app.services.feed.stats().scopes).toBe(0);
  });

  it('closes the socket of a key revoked while it is open with 4403, and frees its subscriptions', async () => {
    const { t, url, feed } = await liveApp();
    const key = await viewerKey(t);
    const client = connect(url, key.secret);
    const stream = client.subscribe(LiveDashboardDocument, { programId: 'A' });
    await stream.next();
    const bystander = connect(url, ADMIN_KEY).subscribe(LiveDashboardDocument, { programId: 'A' });
    await bystander.next();

    await t.ok(RevokeApiKeyDocument, { id: key.id });
    expect((await client.closed).code).toBe(4403);
    await vi.waitFor(() => expect(feed.stats().subscribers).toBe(1));

    // Others keep receiving.
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'c', days: 2 } });
    expect((await bystander.next()).data?.dashboardUpdated.resolvedCases).toBe(1);
  });

  it('returns the live scope count to zero after unsubscribe', async () => {
    const { t, url, feed } = await liveApp();
    const client = connect(url, await t.key('VIEWER'));
    const one = client.subscribe(LiveDashboardDocument, { programId: 'A' });
    const two = client.subscribe(LiveDashboardDocument, {});
    await one.next();
    await two.next();
    expect(feed.stats()).toMatchObject({ scopes: 2, subscribers: 2 });

    one.unsubscribe();
    await vi.waitFor(() => expect(feed.stats()).toMatchObject({ scopes: 1, subscribers: 1 }));
    two.unsubscribe();
    await vi.waitFor(() => expect(feed.stats()).toMatchObject({ scopes: 0, subscribers: 0 }));
    // A change with nobody listening computes nothing.
    const before = feed.stats().computations;
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'c', days: 2 } });
    expect(feed.stats().computations).toBe(before);
  });

  it('frees everything a dropped socket held', async () => {
    const { t, url, feed } = await liveApp();
    const raw = await rawSocket(url);
    await raw.init(await t.key('VIEWER'));
    await raw.subscribeFirst('1', LiveDashboardDocument, { programId: 'A' });
    expect(feed.stats().subscribers).toBe(1);

    raw.socket.terminate(); // no close frame: the connection is simply gone
    await vi.waitFor(() => expect(feed.stats()).toMatchObject({ scopes: 0, subscribers: 0 }));
  });

  it('drops a client that stops answering pings, and frees what it held', async () => {
    // A ping a second, answered within the next: with 100 ms a loaded machine dropped the silent socket
    // before its first result (the test then waited 30 s) or the answering client with it.
    const { t, url, feed } = await liveApp({ LIVE_KEEPALIVE_MS: '1000' });
    const silent = await rawSocket(url, { autoPong: false });
    await silent.init(await t.key('VIEWER'));
    await silent.subscribeFirst('1', LiveDashboardDocument, { programId: 'A' });
    const alive = connect(url, await t.key('VIEWER'));
    await alive.subscribe(LiveDashboardDocument, { programId: 'A' }).next();
    expect(feed.stats().subscribers).toBe(2);

    expect((await silent.closed).code).toBe(1006); // terminated by the server
    await vi.waitFor(() => expect(feed.stats().subscribers).toBe(1));
  });

  it('closes only the socket that sends a malformed message', async () => {
    const { t, url } = await liveApp();
    const good = connect(url, await t.key('VIEWER'));
    const stream = good.subscribe(LiveDashboardDocument, { programId: 'A' });
    await stream.next();
    const bad = await rawSocket(url);
    await bad.init(await t.key('VIEWER'));

    bad.socket.send('{ this is not json');
    expect((await bad.closed).code).toBe(4400);

    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'c', days: 3 } });
    expect((await stream.next()).data?.dashboardUpdated.resolvedCases).toBe(1);
  });

  it('closes every socket with 1001 on shutdown and lets go of every live scope', async () => {
    const { t, url, feed } = await liveApp();
    const clients = [connect(url, await t.key('VIEWER')), connect(url, ADMIN_KEY)];
    await Promise.all(clients.map((c) => c.subscribe(LiveDashboardDocument, { programId: 'A' }).next()));
    const idle = connect(url, ADMIN_KEY);
    await idle.connected;

    await t.app.stop();
    for (const client of [...clients, idle]) expect((await client.closed).code).toBe(1001);
    expect(feed.stats()).toMatchObject({ scopes: 0, subscribers: 0 });
  });
});
