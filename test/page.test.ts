/**
 * The dashboard page in a real Chromium (helpers/chromium.ts): sign in, see the KPIs the API
 * reports, record through the API, see the card change without a reload; an admin acknowledges an alert. Screenshots go to test/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WEB_ROOT } from '../src/http/static-files.js';
import { fiscalInterval, fiscalPeriodOf } from '../src/targets/fiscal-periods.js';
import {
  CreateProgramDocument,
  DashboardAnnotationsDocument,
  DashboardDocument,
  ImpactDocument,
  RecordEventsDocument,
  RecordConflictDocument,
  RecordResolutionTimeDocument,
  RecordSatisfactionDocument,
  ScorecardDocument,
  SetTargetDocument,
} from './generated/operations.js';
import { ADMIN_KEY, testApp, testDialect } from './helpers/app.js';
import { CHROMIUM_ARGS, chromiumPath } from './helpers/chromium.js';

const ARTIFACTS = path.resolve('test/artifacts');
const WAIT = { timeout: 20_000 };

beforeAll(async () => {
  // `npm test` builds the page first; a lone run of this file builds it if it is missing.
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
  }
  mkdirSync(ARTIFACTS, { recursive: true });
});

async function browser(
  viewport = { width: 1280, height: 900 },
  env: Record<string, string> = {},
): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), 'kpi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: await chromiumPath(),
    headless: true,
    viewport,
    args: CHROMIUM_ARGS,
    env: { ...process.env, ...env },
  });
  // Generous waits: the suite shares two cores with a browser, so a busy moment must not fail a test.
  context.setDefaultTimeout(20_000);
  onTestFinished(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

async function pageWithProgram() {
  const t = await testApp();
  const { url } = await t.app.start();
  await t.program('HA', 'America/New_York');
  return { t, origin: new URL(url).origin };
}

const card = (page: Page, kpi: string) => page.locator(`[data-kpi="${kpi}"] .value`);

/** Fails the test on any error the page logs (a CSP refusal, an exception). */
function watchErrors(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  return errors;
}

describe('the dashboard page', { timeout: 90_000 }, () => {
  it('signs in, shows the KPIs the API reports, and updates a card live when an event is recorded', async () => {
    const { t, origin } = await pageWithProgram();
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-001', days: 5 } });
    await t.ok(RecordSatisfactionDocument, { input: { programId: 'HA', caseId: 'HA-001', score: 4.2 } });
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'HA-002' } });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    const page = await (await browser()).newPage();
    const errors = watchErrors(page);

    await page.goto(origin);
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();

    await expect
      .poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT)
      .toBe(`${dashboard.avgResolutionTime!.toFixed(1)} days`);
    expect(await card(page, 'AVG_SATISFACTION').textContent()).toBe(`${dashboard.avgSatisfaction!.toFixed(2)} / 5`);
    expect(await card(page, 'TOTAL_CONFLICTS').textContent()).toBe(String(dashboard.totalConflicts));
    expect(await card(page, 'CSAT').textContent()).toBe('100.0%');
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');

    // A mark on the window survives only if the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-003', days: 6 } });

    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('5.5 days');
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(await page.locator('.chart').count()).toBe(3);
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${testDialect}.png`), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('works in a browser whose locale Intl refuses (en-US@posix, as a Chromium started under LANG=C.UTF-8 reports)', async () => {
    const { t, origin } = await pageWithProgram();
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-001', days: 5 } });
    const context = await browser(undefined, { LANG: 'C.UTF-8' });
    // The tag such a browser reports, whether or not this one does, seen by the page from its first script.
    await context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'language', { get: () => 'en-US@posix', configurable: true }),
    );
    const page = await context.newPage();
    const errors = watchErrors(page);

    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('5.0 days');
    expect(await page.locator('.chart').count()).toBe(3);
    expect(await page.evaluate(() => navigator.language)).toBe('en-US');
    expect(errors).toEqual([]);
  });

  it('opens signed in from the start-up link, keeps the key out of the address bar, and lets an admin acknowledge an alert', async () => {
    const { t, origin } = await pageWithProgram();
    const page = await (await browser({ width: 390, height: 844 })).newPage();
    const errors = watchErrors(page);

    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('—');

    // Past the default rule (30-day average above 7 days): the alert appears without a reload.
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-010', days: 12 } });
    const acknowledge = page.getByRole('button', { name: /^Acknowledge alert/ });
    await acknowledge.waitFor();
    expect(await page.locator('.alert').textContent()).toContain('12.0 days');
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-phone-${testDialect}.png`), fullPage: true });

    await acknowledge.click();
    await expect.poll(() => page.locator('.alert .meta').textContent(), WAIT).toContain('acknowledged');
    expect(await acknowledge.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('breaks a program down by office, updates a row live after a record, and filters on a row when clicked', async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    const dimensions = [
      { key: 'office', label: 'Office' },
      { key: 'channel', label: 'Channel' },
    ];
    await t.ok(CreateProgramDocument, { input: { id: 'HA', name: 'Housing', timezone: 'UTC', dimensions } });
    const record = (caseId: string, days: number, office: string, channel: string) =>
      t.ok(RecordResolutionTimeDocument, {
        input: {
          programId: 'HA',
          caseId,
          days,
          attributes: [
            { key: 'office', value: office },
            { key: 'channel', value: channel },
          ],
        },
      });
    await record('HA-1', 4, 'North', 'web');
    await record('HA-2', 9, 'South', 'mail');
    const page = await (await browser()).newPage();
    const errors = watchErrors(page);
    const cell = (value: string, kpi: string) =>
      page.locator(`#breakdown tbody tr[data-value="${value}"] td[data-kpi="${kpi}"]`);
    const rowValues = () =>
      page.locator('#breakdown tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.value));

    await page.goto(`${new URL(url).origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => cell('South', 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('9.0 days');
    expect(await page.locator('#by').inputValue()).toBe('office');
    expect(await rowValues()).toEqual(['South', 'North']); // slowest first
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));

    await record('HA-3', 3, 'South', 'web');
    await expect.poll(() => cell('South', 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('6.0 days');
    expect(await page.locator('#breakdown thead th').count()).toBe(11); // the value, 8 KPIs, the sparkline, the events
    expect(await page.locator('#breakdown tbody tr[data-value="South"] td.spark svg path').count()).toBe(1);

    // Sorting: ascending by average resolution time puts North first.
    await page.getByRole('button', { name: /^Sort by Average resolution time/ }).click();
    await expect.poll(rowValues, WAIT).toEqual(['North', 'South']);

    // A click on a row filters on it; the breakdown moves on to the next dimension.
    await page.locator('#breakdown tbody tr[data-value="South"]').click();
    await expect.poll(() => page.locator('.chip').textContent(), WAIT).toContain('Office: South');
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('6.0 days');
    await expect.poll(rowValues, WAIT).toEqual(expect.arrayContaining(['web', 'mail']));
    expect(await page.locator('#by').inputValue()).toBe('channel');
    expect(await cell('mail', 'AVG_RESOLUTION_TIME').textContent()).toBe('9.0 days');
    await page.screenshot({ path: path.join(ARTIFACTS, `breakdown-${testDialect}.png`), fullPage: true });

    // Removing the chip brings every office back.
    await page.getByRole('button', { name: 'Remove filter Office: South' }).click();
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('5.3 days');
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('compares programs with "All programs", and a click on a program opens it', async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    await t.program('HA');
    await t.program('VET');
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-1', days: 2 } });
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'VET', caseId: 'V-1', days: 8 } });
    const page = await (await browser()).newPage();
    const errors = watchErrors(page);

    await page.goto(`${new URL(url).origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#breakdown tbody tr').count(), WAIT).toBe(2);
    expect(await page.locator('#by').inputValue()).toBe('program');
    expect(await page.locator('#breakdown tbody th').allTextContents()).toEqual(['Program VET', 'Program HA']);

    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-2', days: 20 } });
    await expect
      .poll(() => page.locator('#breakdown tbody th').allTextContents(), WAIT)
      .toEqual(['Program HA', 'Program VET']);

    await page.locator('#breakdown tbody tr[data-value="VET"]').click();
    await expect.poll(() => page.locator('#program').inputValue(), WAIT).toBe('VET');
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).toBe('8.0 days');
    // VET declares no dimensions: nothing left to break it down by.
    expect(await page.locator('#breakdown-section').isHidden()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('refuses an unknown key and asks again', async () => {
    const { origin } = await pageWithProgram();
    const page = await (await browser()).newPage();

    await page.goto(origin);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByLabel('API key').press('Enter');

    await expect.poll(() => page.locator('#sign-in-error').textContent(), WAIT).toContain('not accepted');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
  });
  it('adds an annotation from the page, shows its marker on every chart, and reads its impact in plain words', async () => {
    const { t, origin } = await pageWithProgram();
    const zone = 'America/New_York';
    const DAY = 86_400_000;
    const localDate = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(ms);
    // Slower before the change (12 and 8 days ago), faster after it (3 and 2 days ago).
    const now = Date.now();
    const events = [
      ...[9.5, 10, 8.5, 11, 9, 10.5].map((days, i) => ({ days, at: now - (12 - (i % 2) * 4) * DAY })),
      ...[7, 7.5, 6.8, 7.2, 7.6, 6.9].map((days, i) => ({ days, at: now - (3 - (i % 2)) * DAY })),
    ];
    await t.ok(RecordEventsDocument, {
      events: events.map((e, i) => ({
        programId: 'HA',
        kind: 'RESOLUTION_TIME' as const,
        caseId: `HA-${i}`,
        value: e.days,
        occurredAt: new Date(e.at).toISOString(),
      })),
    });
    const page = await (await browser()).newPage();
    const errors = watchErrors(page);
    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');

    await page.getByRole('button', { name: 'Add annotation' }).click();
    await page.getByLabel('Date').fill(localDate(now - 5 * DAY));
    await page.getByLabel('Title').fill('New intake form');
    await page.getByRole('button', { name: 'Save annotation' }).click();

    // Stored, and pushed to the live dashboard: one marker on each chart.
    const markers = page.locator('.chart .annotation-marker');
    await expect.poll(() => markers.count(), WAIT).toBe(3);
    const { dashboard } = await t.ok(DashboardAnnotationsDocument, { programId: 'HA' });
    expect(dashboard.annotations).toHaveLength(1);
    const [annotation] = dashboard.annotations;
    expect(annotation.title).toBe('New intake form');
    expect(localDate(Date.parse(annotation.at))).toBe(localDate(now - 5 * DAY));
    expect(await markers.first().isVisible()).toBe(true);
    expect(await page.locator('#annotations').textContent()).toContain('New intake form');

    // Its title on hover, and on keyboard focus.
    const tip = (i: number) => markers.nth(i).locator('.annotation-tip');
    expect(await tip(0).isVisible()).toBe(false);
    await markers.nth(0).hover();
    await expect.poll(() => tip(0).isVisible(), WAIT).toBe(true);
    expect(await tip(0).textContent()).toContain('New intake form');
    await page.mouse.move(0, 0);
    await markers.nth(1).focus();
    await expect.poll(() => tip(1).isVisible(), WAIT).toBe(true);
    expect(await markers.nth(1).getAttribute('aria-label')).toContain('New intake form');

    // The impact panel, in plain words, with the service's own numbers.
    const { impact } = await t.ok(ImpactDocument, { annotationId: annotation.id, days: 30 });
    const row = impact.rows.find((r) => r.kpi === 'AVG_RESOLUTION_TIME')!;
    expect(row.significant).toBe(true);
    const minus = (v: number) => `−${Math.abs(v).toFixed(1)}`;
    await page.keyboard.press('Enter');
    const sentence = page.locator('#impact-rows li[data-kpi="AVG_RESOLUTION_TIME"]');
    await expect
      .poll(() => sentence.textContent(), WAIT)
      .toBe(
        `Average resolution time fell from ${row.before!.toFixed(1)} to ${row.after!.toFixed(1)} days ` +
          `(${minus(row.change!)}; 95% interval ${minus(row.low!)} to ${minus(row.high!)}): a real change.`,
      );
    expect(await page.locator('#impact-title').textContent()).toContain('New intake form');
    expect(await page.locator('#impact-rows li[data-kpi="TOTAL_CONFLICTS"]').textContent()).toBe(
      'Conflicts stayed at 0 (+0; no interval for this KPI).',
    );
    await page.screenshot({ path: path.join(ARTIFACTS, `annotations-${testDialect}.png`), fullPage: true });
    expect(errors).toEqual([]);
  });

  it("draws a running target's forecast beyond now as a dashed band, with the forecast sentence on its card", async () => {
    const { t, origin } = await pageWithProgram();
    const zone = 'America/New_York';
    const DAY = 86_400_000;
    // 200 days of history, five cases a day around a slow swing of 4 to 8 days: enough for a forecast of this quarter.
    const now = Date.now();
    const events = Array.from({ length: 200 * 5 }, (_, i) => {
      const d = 1 + Math.floor(i / 5);
      return {
        programId: 'HA',
        kind: 'RESOLUTION_TIME' as const,
        caseId: `HA-${i}`,
        value: Math.round((6 + 2 * Math.sin(d / 20) + ((i % 5) - 2) / 2) * 10) / 10,
        occurredAt: new Date(now - d * DAY).toISOString(),
      };
    });
    await t.ok(RecordEventsDocument, { events });
    const { start, end } = fiscalInterval(fiscalPeriodOf(now, zone), zone);
    const quarter = { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
    await t.ok(SetTargetDocument, { input: { programId: 'HA', kpi: 'AVG_RESOLUTION_TIME', value: 7, ...quarter } });
    const { scorecard } = await t.ok(ScorecardDocument, { programId: 'HA', ...quarter });
    const forecast = scorecard.rows.find((r) => r.kpi === 'AVG_RESOLUTION_TIME')!.forecast!;
    expect(forecast).not.toBeNull();

    const page = await (await browser()).newPage();
    const errors = watchErrors(page);
    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    await expect.poll(() => page.locator('#live').textContent(), WAIT).toBe('Live');
    const bands = page.locator('.chart .projection');
    // The last 30 days have no target: no forecast, nothing drawn beyond now.
    await expect.poll(() => card(page, 'AVG_RESOLUTION_TIME').textContent(), WAIT).not.toBe('—');
    expect(await bands.count()).toBe(0);

    await page.locator('#preset').selectOption('quarter');
    const sentence = page.locator('[data-kpi="AVG_RESOLUTION_TIME"] .forecast');
    await expect.poll(() => sentence.isVisible(), WAIT).toBe(true);
    expect(await sentence.textContent()).toMatch(
      new RegExp(
        `^projected ${forecast.value.toFixed(1)} days by .+, 80% between \\d+\\.\\d days and \\d+\\.\\d days; \\d+% chance of meeting ≤ 7\\.0 days$`,
      ),
    );

    // One band, on the resolution chart, for the KPI with the target; visible, with its dashed line and words.
    await expect.poll(() => bands.count(), WAIT).toBe(1);
    const band = page.locator('.chart[data-projected] .projection[data-kpi="AVG_RESOLUTION_TIME"]');
    expect(await band.isVisible()).toBe(true);
    expect(await band.textContent()).toBe(`projected ${forecast.value.toFixed(1)} days`);
    expect(await band.getAttribute('aria-label')).toMatch(
      /^Average resolution time: projected .+, 80% between .+ and .+$/,
    );
    expect(await band.evaluate((e) => getComputedStyle(e).borderTopStyle)).toBe('dashed');
    expect(await band.locator('.projection-line').evaluate((e) => getComputedStyle(e).borderTopStyle)).toBe('dashed');
    expect(await page.locator('.chart[data-projected]').count()).toBe(1);

    // It starts where the bucket holding now starts (that bucket is marked partial) and runs right of it.
    const partial = page.locator('.chart[data-projected] .partial-bucket');
    expect(await partial.textContent()).toBe('partial');
    const bandBox = (await band.boundingBox())!;
    const partialBox = (await partial.boundingBox())!;
    expect(Math.abs(bandBox.x - partialBox.x)).toBeLessThan(1);
    expect(bandBox.width).toBeGreaterThan(2);
    expect(bandBox.height).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(ARTIFACTS, `forecast-band-${testDialect}.png`), fullPage: true });
    expect(errors).toEqual([]);
  });
});
