/**
 * The page's small things, in Chromium at a phone's width: the program picker says a name once
 * ("Food Assistance (SNAP)", not "… (SNAP) (SNAP)"), the program's name is whole, every date on the
 * screen is written one way (the browser's locale), and the charts' legends show the latest values
 * before anything is hovered. A screenshot goes to test/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WEB_ROOT } from '../src/http/static-files.js';
import { CreateProgramDocument, RecordConflictDocument, RecordResolutionTimeDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp, testDialect } from './helpers/app.js';
import { CHROMIUM_ARGS, chromiumPath } from './helpers/chromium.js';

const ARTIFACTS = path.resolve('test/artifacts');

beforeAll(async () => {
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
  }
  mkdirSync(ARTIFACTS, { recursive: true });
});

describe('the page on a phone', () => {
  it('shows the program name whole and once, one date format, and legends with values', async () => {
    const t = await testApp();
    await t.ok(CreateProgramDocument, {
      input: { id: 'SNAP', name: 'Food Assistance (SNAP)', timezone: 'America/Chicago' },
    });
    const day = 86_400_000;
    for (let i = 1; i <= 5; i++) {
      const occurredAt = new Date(Date.now() - i * 3 * day).toISOString();
      await t.ok(RecordResolutionTimeDocument, {
        input: { programId: 'SNAP', caseId: `S-${i}`, days: 3 + i, occurredAt },
      });
      await t.ok(RecordConflictDocument, { input: { programId: 'SNAP', caseId: `S-${i}`, occurredAt } });
    }
    const { url } = await t.app.start();
    const origin = new URL(url).origin;

    const profile = mkdtempSync(path.join(tmpdir(), 'kpi-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: await chromiumPath(),
      headless: true,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'en-US',
      args: CHROMIUM_ARGS,
    });
    context.setDefaultTimeout(30_000);
    onTestFinished(async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${origin}/#key=${encodeURIComponent(ADMIN_KEY)}`);
    const picker = page.locator('#program');
    await expect
      .poll(() => picker.locator('option').allTextContents(), { timeout: 30_000 })
      .toContain('Food Assistance (SNAP)');
    expect((await picker.locator('option').allTextContents()).join('|')).not.toContain('(SNAP) (SNAP)');
    await picker.selectOption('SNAP');
    await expect
      .poll(() => page.locator('#scope').textContent(), { timeout: 30_000 })
      .toContain('Food Assistance (SNAP)');
    await expect.poll(() => page.locator('.chart .u-legend').count(), { timeout: 30_000 }).toBeGreaterThan(0);

    const layout = await page.evaluate(() => {
      const select = document.querySelector<HTMLSelectElement>('#program')!;
      const style = getComputedStyle(select);
      const context = document.createElement('canvas').getContext('2d')!;
      context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = select.selectedOptions[0].textContent ?? '';
      const scope = document.querySelector<HTMLElement>('#scope')!;
      return {
        text,
        textWidth: context.measureText(text).width,
        // Room for the text: the box less its padding and the drop-down arrow (about 1.5em).
        room:
          select.clientWidth -
          parseFloat(style.paddingLeft) -
          parseFloat(style.paddingRight) -
          1.5 * parseFloat(style.fontSize),
        scopeClipped: scope.scrollWidth > scope.clientWidth,
        pageOverflow: document.documentElement.scrollWidth > window.innerWidth,
        scope: scope.textContent ?? '',
        legendDates: [...document.querySelectorAll('.chart .u-legend .u-series:first-child .u-value')].map(
          (e) => e.textContent ?? '',
        ),
        legendValues: [...document.querySelectorAll('.chart .u-legend .u-series:not(:first-child) .u-value')].map(
          (e) => e.textContent ?? '',
        ),
      };
    });
    expect(layout.text).toBe('Food Assistance (SNAP)');
    expect(layout.textWidth).toBeLessThanOrEqual(layout.room);
    expect(layout.scopeClipped).toBe(false);
    expect(layout.pageOverflow).toBe(false);

    // One format: the range in the scope line and each legend's date read like Intl's medium date in en-US.
    const medium = /^[A-Z][a-z]{2} \d{1,2}, \d{4}$/;
    const [rangeStart, rangeEnd] = layout.scope.split(' · ')[1].split(' – ');
    expect(rangeStart).toMatch(medium);
    expect(rangeEnd).toMatch(medium);
    expect(layout.legendDates.length).toBeGreaterThan(0);
    for (const date of layout.legendDates) expect(date).toMatch(medium);
    // Before any hover the legends show the latest values, never "--".
    expect(layout.legendValues.length).toBeGreaterThan(0);
    for (const value of [...layout.legendDates, ...layout.legendValues]) expect(value).not.toBe('--');

    await page.screenshot({ path: path.join(ARTIFACTS, `page-phone-${testDialect}.png`), fullPage: true });
    expect(errors).toEqual([]);
  }, 120_000);
});
