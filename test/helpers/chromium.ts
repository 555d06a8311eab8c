/**
 * Which Chromium the browser tests drive: CHROMIUM_PATH, Debian's /usr/bin/chromium, or else the
 * one the npm package @sparticuz/chromium ships (unpacked to /tmp on first use), so the tests run
 * on a machine without Debian's.
 */
import { existsSync } from 'node:fs';

export async function chromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  const { default: sparticuz } = await import('@sparticuz/chromium');
  return sparticuz.executablePath();
}

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
