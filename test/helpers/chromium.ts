/**
 * Which Chromium the browser tests drive: CHROMIUM_PATH, Debian's /usr/bin/chromium, or else the
 * one the npm package @sparticuz/chromium ships (installed by `npm ci`, unpacked to the temporary
 * folder on first use), so the tests run on a machine without a browser. playwright-core drives
 * it; its own browser download cannot work on a closed network.
 */
import { existsSync, mkdirSync, rmSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Flags for a headless run in a container (no sandbox, no GPU, nothing phoning home). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let inflated: Promise<string> | null = null;

export function chromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return Promise.resolve(process.env.CHROMIUM_PATH);
  if (existsSync('/usr/bin/chromium')) return Promise.resolve('/usr/bin/chromium');
  inflated ??= inflateOnce();
  return inflated;
}

/**
 * @sparticuz/chromium unpacks its binary into the temporary folder on first use, and a second
 * process that looks meanwhile would launch a half-written file: test files in parallel take a
 * lock (a folder, made atomically) and the others wait for it to go.
 */
async function inflateOnce(): Promise<string> {
  const { default: sparticuz } = await import('@sparticuz/chromium');
  const lock = path.join(tmpdir(), 'kpi-chromium-unpack.lock');
  for (;;) {
    try {
      mkdirSync(lock);
    } catch {
      // A lock left by a process killed while unpacking: older than any unpacking takes.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > 120_000) rmSync(lock, { force: true, recursive: true });
      else await gone(lock);
      continue;
    }
    try {
      return await sparticuz.executablePath();
    } finally {
      rmSync(lock, { force: true, recursive: true });
    }
  }
}

/** Resolves when `file` no longer exists (or after a second, to look again). */
function gone(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(path.dirname(file), () => {
      if (!existsSync(file)) done();
    });
    const timer = setTimeout(done, 1_000);
    function done() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
    if (!existsSync(file)) done();
  });
}
