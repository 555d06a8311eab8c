/**
 * `npm run bench:startup`: the service as `npm start` ran it before the compiled build (TypeScript
 * through tsx's loader) beside the compiled dist/server/main.mjs under plain node (`npm run build`
 * first): the time from spawning the process to its "listening" line, and its RSS while batches
 * stream in. Writes its section of bench/REPORT.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_ADMIN_KEY, createDatabase } from './dataset.js';
import {
  BATCH,
  BATCH_CLIENTS,
  batchJob,
  dataDir,
  fmt,
  freshPath,
  load,
  mb,
  percentiles,
  STARTUP_SECTION,
  withSection,
} from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const STARTS = 7;
const STREAM_MS = 15_000;

const MODES = [
  { name: 'tsx (before: `tsx src/main.ts`)', args: ['--import', 'tsx', path.join(root, 'src/main.ts')] },
  { name: 'compiled (`node dist/server/main.mjs`)', args: [path.join(root, 'dist/server/main.mjs')] },
];

interface Running {
  child: ChildProcess;
  url: string;
  startMs: number;
}

/** Spawns the service on `databaseUrl` and resolves at its "listening on" line. */
function start(args: string[], databaseUrl: string): Promise<Running> {
  const began = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_API_KEY: BENCH_ADMIN_KEY,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve({ child, url: match[1], startMs: performance.now() - began });
    });
    child.once('exit', (code) => reject(new Error(`the service exited (${code}) before listening:\n${text}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The process's resident set now and at its peak, from /proc (Linux), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function measure(mode: (typeof MODES)[number]) {
  const file = freshPath('startup.db');
  await createDatabase(file);
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const running = await start(mode.args, file);
    starts.push(running.startMs);
    await stop(running.child);
  }
  const running = await start(mode.args, file);
  const pid = running.child.pid as number;
  const idle = memoryOf(pid).rss;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryOf(pid).rss), 250);
  const result = await load(batchJob(running.url, BENCH_ADMIN_KEY, STREAM_MS, 'live'));
  clearInterval(sampler);
  const { peak } = memoryOf(pid);
  await stop(running.child);
  return {
    name: mode.name,
    start: { p50: percentiles(starts).p50, max: Math.max(...starts) },
    idle,
    rss: { p50: percentiles(samples).p50, max: Math.max(...samples) },
    peak,
    eventsPerSecond: ((result.requests - result.failures) * BATCH) / result.seconds,
  };
}

export async function startupSection(): Promise<string> {
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(MODES[1].args[0])) throw new Error('dist/server/main.mjs is missing: run `npm run build` first');
  const rows = [];
  for (const mode of MODES) {
    rows.push(await measure(mode));
    console.log(`[startup] ${mode.name}: p50 ${fmt(rows.at(-1)!.start.p50)} ms`);
  }
  const [tsx, compiled] = rows;
  const loadAverage = os.loadavg()[0];
  return `## Start-up and memory: tsx against the compiled build

The service started ${STARTS} times on one migrated SQLite file (median and slowest time from
spawning the process to its "listening" line), then once more and fed live batches of ${fmt(BATCH)}
events by ${BATCH_CLIENTS} clients for ${STREAM_MS / 1000} s, its RSS read from /proc every 250 ms (\`npm run bench:startup\`). Load average at the end:
${fmt(loadAverage, 1)} on ${os.cpus().length} cores, shared with other work: read the ratios, not the absolute times.

| | start p50 / max ms | RSS idle | RSS while batches stream, p50 / max | peak RSS | events/s |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.name} | ${fmt(r.start.p50)} / ${fmt(r.start.max)} | ${mb(r.idle)} | ${mb(r.rss.p50)} / ${mb(r.rss.max)} | ${mb(r.peak)} | ${fmt(r.eventsPerSecond)} |`).join('\n')}

Compiled, the service starts in ${fmt(compiled.start.p50 / tsx.start.p50, 2)}x the time and holds
${mb(tsx.rss.p50 - compiled.rss.p50)} less while batches stream in (tsx's loader, in the main thread and
again in the writer thread, compiles every module at start and keeps its caches).`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const section = await startupSection();
  const reportFile = path.join(here, 'REPORT.md');
  writeFileSync(reportFile, withSection(readFileSync(reportFile, 'utf8'), STARTUP_SECTION, section));
  console.log(section);
}
