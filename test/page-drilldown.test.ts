/**
 * The events behind a number, in a real Chromium (helpers/chromium.ts): a card opens the events
 * behind it, slowest first, paged; its "Download CSV" gives a file that parses back (RFC 4180,
 * helpers/csv.ts) to the same events the API lists.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CreateProgramWithDimensionsDocument,
  type EventInput,
  EventsDocument,
  RecordEventsDocument,
} from './generated/operations.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';
import { CHROMIUM_ARGS, chromiumPath } from './helpers/chromium.js';
import { csvObjects } from './helpers/csv.js';

const WAIT = { timeout: 20_000 };
const DAY = 86_400_000;

describe('the drill-down on the page', { timeout: 120_000 }, () => {
  it('opens the events behind a card, slowest first and paged, and downloads them as a CSV that parses back to the same events', async () => {
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    const { url } = await t.app.start();
    const origin = new URL(url).origin;
    await t.ok(CreateProgramWithDimensionsDocument, {
      input: { id: 'HA', name: 'Housing', timezone: 'UTC', dimensions: [{ key: 'office', label: 'Office' }] },
    });
    const now = Date.now();
    const events: EventInput[] = Array.from({ length: 70 }, (_, i) => ({
      kind: i % 10 === 9 ? 'SATISFACTION' : 'RESOLUTION_TIME',
      programId: 'HA',
      caseId: i === 3 ? '=HYPERLINK("x")' : `HA-${String(i).padStart(3, '0')}`,
      value: i % 10 === 9 ? 4 : ((i * 37) % 60) / 2,
      occurredAt: new Date(now - (i + 1) * DAY * 0.3).toISOString(),
      attributes: [{ key: 'office', value: i % 2 ? 'North' : 'South, East' }],
    }));
    await t.ok(RecordEventsDocument, { events });

    const profile = mkdtempSync(path.join(tmpdir(), 'kpi-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: await chromiumPath(),
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
    });
    context.setDefaultTimeout(20_000);
    onTestFinished(async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');
    await page.locator('#cards [data-kpi="P90_RESOLUTION_TIME"]').click();

    // The page's default period (the last 30 days) holds every event; the API lists them slowest first.
    const rows = page.locator('#drilldown-events tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(50);
    const resolutions = events.filter((e) => e.kind === 'RESOLUTION_TIME');
    const { events: listed } = await t.ok(EventsDocument, {
      programId: 'HA',
      kinds: ['RESOLUTION_TIME'],
      orderBy: 'VALUE_DESC',
      first: 500,
    });
    expect(listed.totalCount).toBe(resolutions.length);
    const cases = await page.locator('#drilldown-events tbody td.case').allTextContents();
    expect(cases).toEqual(listed.edges.slice(0, 50).map((e) => e.node.caseId));
    expect(await page.locator('#drilldown-status').textContent()).toMatch(/^50 of 63 events, slowest first\.$/);
    await page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(63);
    expect(await page.locator('#drilldown-events tbody td.case').allTextContents()).toEqual(
      listed.edges.map((e) => e.node.caseId),
    );

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#drilldown-download').click()]);
    expect(download.suggestedFilename()).toBe('events-HA.csv');
    const csv = csvObjects(readFileSync((await download.path())!, 'utf8'));
    // The export lists them oldest first, with the formula guard on the hostile case id.
    const oldestFirst = [...listed.edges]
      .map((e) => e.node)
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || Number(a.id) - Number(b.id));
    expect(
      csv.map((r) => ({
        id: r.id,
        caseId: r.caseId,
        value: Number(r.value),
        occurredAt: r.occurredAt,
        office: r['attr.office'],
      })),
    ).toEqual(
      oldestFirst.map((n) => ({
        id: n.id,
        caseId: n.caseId.startsWith('=') ? `'${n.caseId}` : n.caseId,
        value: n.value,
        occurredAt: n.occurredAt,
        office: n.attributes.find((a) => a.key === 'office')!.value,
      })),
    );
    expect(errors).toEqual([]);
  });
});
