/**
 * GraphiQL in a real Chromium with every other host unreachable: it loads from our own server
 * (no CDN), runs a query with the key from its Headers tab, and runs a subscription (over SSE, with
 * the same headers) that pushes again when an event is recorded. Any request to another host fails
 * the test.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RecordResolutionTimeDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';
import { CHROMIUM_ARGS, chromiumPath } from './helpers/chromium.js';

const ARTIFACTS = path.resolve('test/artifacts');

async function browser(origin: string): Promise<{ context: BrowserContext; elsewhere: string[] }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'kpi-chromium-'));
  const own = new URL(origin).host;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: await chromiumPath(),
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      ...CHROMIUM_ARGS,
      // No other host resolves: a closed network.
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(origin).hostname}`,
    ],
  });
  context.setDefaultTimeout(30_000);
  const elsewhere: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.host === own) return route.continue();
    elsewhere.push(url.href);
    return route.abort();
  });
  onTestFinished(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return { context, elsewhere };
}

/** Replaces an editor's whole text by typing, as a person would. */
async function typeInto(page: Page, editor: ReturnType<Page['locator']>, text: string) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // Editors close brackets and quotes themselves; inserting the text as one paste avoids doubling them.
  await page.keyboard.insertText(text);
}

describe('GraphiQL on a closed network', () => {
  it('loads from our server and runs a query and a live subscription with the key from its headers', async () => {
    const t = await testApp();
    await t.program('HA');
    const { url } = await t.app.start();
    const { context, elsewhere } = await browser(new URL(url).origin);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    await page.goto(url);
    await page.locator('.graphiql-container').first().waitFor();
    const queryEditor = page
      .locator('.graphiql-query-editor .monaco-editor, .graphiql-query-editor .CodeMirror')
      .first();
    await queryEditor.waitFor();

    // The key goes in the Headers tab.
    await page
      .getByRole('button', { name: /^headers$/i })
      .or(page.getByText(/^Headers$/))
      .first()
      .click();
    const headersEditor = page
      .locator('.graphiql-editor-tool .monaco-editor, .graphiql-editor-tool .CodeMirror')
      .filter({ visible: true })
      .first();
    await typeInto(page, headersEditor, `{"Authorization": "Bearer ${ADMIN_KEY}"}`);

    const response = page.locator('.graphiql-response').first();
    const run = page.locator('.graphiql-execute-button').first();

    await typeInto(page, queryEditor, '{ programs { id name } }');
    await run.click();
    await expect.poll(() => response.innerText(), { timeout: 30_000 }).toMatch(/"id":\s*"HA"/);

    await typeInto(page, queryEditor, 'subscription { dashboardUpdated(programId: "HA") { resolvedCases } }');
    await run.click();
    await expect.poll(() => response.innerText(), { timeout: 30_000 }).toMatch(/"resolvedCases":\s*0/);
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'HA-1', days: 5 } });
    await expect.poll(() => response.innerText(), { timeout: 30_000 }).toMatch(/"resolvedCases":\s*1/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-closed-network.png') });
    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
