/**
 * The service as its own operating-system process (src/main.ts), for tests that kill it,
 * signal it, or run two of it on one database. Every process started here is killed after the
 * test that started it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { compileServer, ROOT, writeServer } from '../../scripts/build-server.js';
import { ADMIN_KEY } from './app.js';

let bundled: Promise<string> | null = null;

/**
 * The server compiled once per test file (scripts/build-server.ts, what `npm run build` writes),
 * because tests restart the server many times and compiling on every start (`node --import tsx`)
 * takes seconds on a busy machine.
 */
function serverEntry(): Promise<string> {
  bundled ??= (async () => {
    const outputFiles = await compileServer();
    const hash = createHash('sha256');
    for (const file of outputFiles) hash.update(file.path).update(file.contents);
    // Named by content: one folder per version of the code, shared by test files and runs.
    const dir = path.join(ROOT, 'node_modules/.cache/kpi-server', hash.digest('hex').slice(0, 16));
    if (!existsSync(dir)) {
      const partial = `${dir}.${process.pid}`;
      writeServer(outputFiles, partial);
      try {
        renameSync(partial, dir);
      } catch (error) {
        // Another test file wrote the same folder first.
        if (!existsSync(dir)) throw error;
        rmSync(partial, { recursive: true, force: true });
      }
    }
    return path.join(dir, 'main.mjs');
  })();
  return bundled;
}

export interface ServerProcess {
  child: ChildProcess;
  /** http://host:port/graphql, as main.ts printed it. */
  url: string;
  /** http://host:port */
  origin: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Settles when the process exits, with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** POSTs a GraphQL operation with the admin key; resolves with the HTTP status and body. */
  graphql(
    query: string,
    variables?: Record<string, unknown>,
    init?: { signal?: AbortSignal },
  ): Promise<{ status: number; headers: Headers; body: any }>;
}

/**
 * Starts `src/main.ts` on a free port with `env` (DATABASE_URL at least) and resolves once it
 * printed the line `… listening on <url>`.
 */
export async function startServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  // Plain `node`, not the tsx CLI: the CLI runs the service in a child process of its own, and a
  // SIGKILL sent to the CLI would leave that child running.
  const child = spawn(process.execPath, [await serverEntry()], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${text}`)),
      timeoutMs,
    );
    const look = () => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', look);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${text}`));
    });
  });
  const origin = new URL(url).origin;

  return {
    child,
    url,
    origin,
    output: () => text,
    exited,
    async graphql(query, variables = {}, init = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify({ query, variables }),
        signal: init.signal,
      });
      const raw = await response.text();
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      return { status: response.status, headers: response.headers, body };
    },
  };
}
