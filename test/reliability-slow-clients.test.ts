/**
 * Slow and dead live clients. A subscriber that stops reading is closed with 4008 once its unsent
 * bytes pass LIVE_MAX_BUFFERED_BYTES, so it cannot grow the server's memory; others keep their
 * updates. (A client that vanishes without a word is dropped by keep-alive and its subscriptions
 * freed: see 'drops a client that stops answering pings' in test/live-sockets.test.ts.)
 */
import { print } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { SLOW_READER_CLOSE } from '../src/realtime/slow-readers.js';
import { LiveDashboardWideSeriesDocument, RecordResolutionTimeDocument } from './generated/operations.js';
import { iso, testApp } from './helpers/app.js';
import { connect, listen, rawSocket } from './helpers/ws.js';

const DAY = 86_400_000;
const BOUND = 256 * 1024;

describe('slow live clients', () => {
  it('closes a subscriber that stops reading with 4008 once its unsent bytes pass the bound, and keeps serving the others', async () => {
    const t = await testApp({
      env: { LIVE_THROTTLE_MS: '0', LIVE_MAX_BUFFERED_BYTES: String(BOUND), RATE_LIMIT_PER_MINUTE: '0' },
    });
    await t.program('A');
    const url = await listen(t);
    const key = await t.key('VIEWER');
    // 2,000 daily buckets of every KPI: each message is some 400 KB.
    const start = Date.UTC(2020, 0, 1);
    const variables = { programId: 'A', from: iso(start), to: iso(start + 2_000 * DAY), granularity: 'DAY' as const };

    const reader = connect(url, key);
    const stream = reader.subscribe(LiveDashboardWideSeriesDocument, variables);
    const messageBytes = JSON.stringify(await stream.next()).length;

    const stalled = await rawSocket(url);
    await stalled.init(key);
    stalled.socket.pause(); // reads nothing more: the kernel's buffers fill, then the server's
    const subscriptions = 60; // 60 × 400 KB: far more than the kernel's socket buffers hold
    for (let id = 0; id < subscriptions; id++) {
      stalled.socket.send(
        JSON.stringify({
          id: String(id),
          type: 'subscribe',
          payload: { query: print(LiveDashboardWideSeriesDocument), variables },
        }),
      );
    }

    await vi.waitFor(() => expect(t.app.sockets.slowReaders().closed).toBe(1), { timeout: 20_000, interval: 50 });
    // Checked before every send: unsent bytes never passed the bound by more than one message.
    const { peakBufferedBytes } = t.app.sockets.slowReaders();
    console.log(
      `slow reader: bound ${BOUND} bytes, one message ${messageBytes} bytes, most unsent on one socket ${peakBufferedBytes} bytes`,
    );
    expect(peakBufferedBytes).toBeLessThanOrEqual(BOUND + messageBytes + 1_024);

    // The reader that keeps up still gets every change.
    await t.ok(RecordResolutionTimeDocument, {
      input: { programId: 'A', caseId: 'c', days: 2, occurredAt: iso(start + DAY) },
    });
    expect((await stream.until((d) => d.dashboardUpdated.resolvedCases === 1)).dashboardUpdated.resolvedCases).toBe(1);

    // Once the stalled client reads again it finds the reason, and everything it held is freed.
    stalled.socket.resume();
    expect(await stalled.closed).toEqual({
      code: SLOW_READER_CLOSE,
      reason: `client too slow: more than ${BOUND} bytes unsent`,
    });
    await vi.waitFor(() => expect(t.app.services.feed.stats().subscribers).toBe(1));
  }, 60_000);
});
