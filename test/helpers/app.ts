/**
 * A real app on a freshly migrated database file per test, driven through yoga's fetch with typed
 * operations. Everything made here is disposed after the test that made it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { onTestFinished } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Role } from '../../src/db/types.js';
import { CreateApiKeyDocument, CreateProgramDocument } from '../generated/operations.js';
import { runDatabaseUrl } from './global-setup.js';

export const ADMIN_KEY = 'test-admin-key';

export interface GraphQLErrorJson {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [k: string]: unknown };
}

export interface Result<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLErrorJson[];
}

/** Which database the suite runs on: the vitest project sets TEST_DB (see vitest.config.ts). */
export const testDialect = process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/**
 * A fresh, empty database for one test: a new SQLite file in its own temporary folder, or, on
 * PostgreSQL, a new schema in the run's own database (dropped whole when the run ends; see
 * test/helpers/global-setup.ts).
 */
export function freshDatabaseUrl(): string {
  if (testDialect === 'postgres') {
    const url = new URL(runDatabaseUrl());
    url.searchParams.set('schema', `test_${randomBytes(8).toString('hex')}`);
    return url.toString();
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'kpi-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'metrics.db');
}

export interface TestApp {
  app: App;
  config: Config;
  /** Sends an operation with `key` (the admin key by default). */
  run<R, V>(document: TypedDocumentNode<R, V>, variables: V, key?: string | null): Promise<Result<R>>;
  /** Like run, but fails the test on any error and returns data. */
  ok<R, V>(document: TypedDocumentNode<R, V>, variables: V, key?: string | null): Promise<R>;
  program(id: string, timezone?: string): Promise<void>;
  key(role: Role, programIds?: string[] | null): Promise<string>;
}

export interface TestAppOptions {
  now?: () => number;
  env?: Record<string, string>;
}

/** Typed operations sent through an app's fetch; testApp uses it, and so do tests that build apps themselves. */
export function operationsOn(app: App) {
  async function run<R, V>(document: TypedDocumentNode<R, V>, variables: V, key: string | null = ADMIN_KEY) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const response = await app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as Omit<Result<R>, 'status'>;
    return { status: response.status, ...body };
  }

  async function ok<R, V>(document: TypedDocumentNode<R, V>, variables: V, key: string | null = ADMIN_KEY) {
    const result = await run(document, variables, key);
    if (result.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
    return result.data as R;
  }

  return { run, ok };
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: freshDatabaseUrl(),
    ADMIN_API_KEY: ADMIN_KEY,
    // Request logs stay out of test output; a test that reads logs passes its own logger.
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...options.env,
  });
  const app = await buildApp(config, { now: options.now });
  onTestFinished(() => app.stop());

  const { run, ok } = operationsOn(app);

  return {
    app,
    config,
    run,
    ok,
    async program(id, timezone = 'UTC') {
      await ok(CreateProgramDocument, { input: { id, name: `Program ${id}`, timezone } });
    },
    async key(role, programIds = null) {
      const created = await ok(CreateApiKeyDocument, { input: { name: `${role} key`, role, programIds } });
      return created.createApiKey.key;
    },
  };
}

/** The single error of a failed result, asserting there is exactly one. */
export function onlyError(result: Result<unknown>): GraphQLErrorJson {
  if (result.errors?.length !== 1)
    throw new Error(`expected one error, got ${JSON.stringify(result.errors ?? result.data)}`);
  return result.errors[0];
}

export const iso = (ms: number) => new Date(ms).toISOString();
