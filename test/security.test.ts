/**
 * Production mode, CORS, keys, rate limiting and the audit log.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { TokenBuckets } from '../src/security/rate-limit.js';
import {
  AuditLogDocument,
  CreateApiKeyDocument,
  CreateWebhookDocument,
  EventRecordedByDocument,
  LiveDashboardDocument,
  ProgramsDocument,
  RecordResolutionTimeDocument,
  RetractEventDocument,
  RevokeApiKeyDocument,
  SetTargetDocument,
} from './generated/operations.js';
import { ADMIN_KEY, onlyError, testApp, type TestApp } from './helpers/app.js';
import { connect, listen } from './helpers/ws.js';

async function raw(t: TestApp, query: string, init: { key?: string; headers?: Record<string, string> } = {}) {
  const response = await t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${init.key ?? ADMIN_KEY}`, ...init.headers },
    body: JSON.stringify({ query }),
  });
  return {
    response,
    body: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

describe('production mode', () => {
  it('refuses introspection, hides field suggestions, serves no GraphiQL and masks internal errors', async () => {
    const t = await testApp({ env: { NODE_ENV: 'production' } });
    expect(t.config.production).toBe(true);

    const introspection = await raw(t, '{ __schema { types { name } } }');
    expect(introspection.body.data ?? null).toBeNull();
    expect(introspection.body.errors?.[0].message).toMatch(/introspection/i);
    const typeQuery = await raw(t, '{ __type(name: "Program") { fields { name } } }');
    expect(typeQuery.body.errors?.[0].message).toMatch(/introspection/i);

    const typo = await raw(t, '{ programz { id } }');
    expect(typo.body.errors?.[0].message).not.toMatch(/Did you mean/);
    expect(JSON.stringify(typo.body)).not.toContain('"programs"');

    const page = await t.app.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);

    // An internal failure (a table gone) reaches the client masked: no SQL, no path, no stack.
    await sql`drop table targets`.execute(t.app.services.db);
    await t.program('p');
    const broken = await raw(t, '{ targets(programId: "p") { id } }');
    expect(broken.body.errors?.map((e) => e.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(broken.body)).not.toMatch(/no such table|sqlite|select |\.ts|\bat /i);
  });

  it('leaves introspection and suggestions on outside production', async () => {
    const t = await testApp();
    expect((await raw(t, '{ __schema { queryType { name } } }')).body.errors).toBeUndefined();
    expect((await raw(t, '{ programz { id } }')).body.errors?.[0].message).toMatch(/Did you mean .*"programs"/);
  });
});

describe('CORS', () => {
  const preflight = (t: TestApp, origin: string) =>
    t.app.fetch('http://localhost/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('answers no other origin by default', async () => {
    const t = await testApp();
    expect(t.config.corsOrigins).toEqual([]);
    expect((await preflight(t, 'https://elsewhere.example')).headers.get('access-control-allow-origin')).toBeNull();
    const { response } = await raw(t, '{ me { role } }', { headers: { origin: 'https://elsewhere.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers exactly the origins CORS_ORIGINS lists, without credentials', async () => {
    const t = await testApp({ env: { CORS_ORIGINS: 'https://kpi.example.gov, http://localhost:5173' } });
    const allowed = await preflight(t, 'https://kpi.example.gov');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://kpi.example.gov');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const { response } = await raw(t, '{ me { role } }', { headers: { origin: 'http://localhost:5173' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(
      (await preflight(t, 'https://kpi.example.gov.evil.example')).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('refuses a CORS_ORIGINS entry that is not an origin', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://kpi.example.gov/path' })).toThrow(
      /CORS_ORIGINS must list origins/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
  });
});

describe('keys', () => {
  it('are stored only as SHA-256 digests', async () => {
    const t = await testApp();
    const secret = await t.key('VIEWER');
    const rows = await t.app.services.db.selectFrom('api_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('may be made and revoked by an admin limited to some programs only within those programs', async () => {
    const t = await testApp();
    await t.program('p');
    await t.program('q');
    const adminP = await t.key('ADMIN', ['p']);
    const made = await t.ok(
      CreateApiKeyDocument,
      { input: { name: 'p viewer', role: 'VIEWER', programIds: ['p'] } },
      adminP,
    );
    expect(made.createApiKey.apiKey.programIds).toEqual(['p']);
    expect(
      (await t.ok(RevokeApiKeyDocument, { id: made.createApiKey.apiKey.id }, adminP)).revokeApiKey.revokedAt,
    ).not.toBeNull();
    const refused = await t.run(
      CreateApiKeyDocument,
      { input: { name: 'escalation', role: 'ADMIN', programIds: null } },
      adminP,
    );
    expect(onlyError(refused).extensions?.code).toBe('FORBIDDEN');
  });

  it('record which key recorded each event, shown to admins only', async () => {
    const t = await testApp();
    await t.program('p');
    const { createApiKey } = await t.ok(CreateApiKeyDocument, {
      input: { name: 'feed', role: 'INTEGRATION', programIds: ['p'] },
    });
    const viewer = await t.key('VIEWER');
    const recorded = await t.ok(
      RecordResolutionTimeDocument,
      { input: { programId: 'p', caseId: 'c1', days: 2 } },
      createApiKey.key,
    );
    const byAdmin = await t.ok(RecordResolutionTimeDocument, { input: { programId: 'p', caseId: 'c2', days: 3 } });

    const seen = await t.ok(EventRecordedByDocument, { id: recorded.recordResolutionTime.event.id });
    expect(seen.event?.recordedBy).toBe(createApiKey.apiKey.id);
    expect((await t.ok(EventRecordedByDocument, { id: byAdmin.recordResolutionTime.event.id })).event?.recordedBy).toBe(
      'ADMIN_API_KEY',
    );

    const hidden = await t.run(EventRecordedByDocument, { id: recorded.recordResolutionTime.event.id }, viewer);
    expect(onlyError(hidden).extensions?.code).toBe('FORBIDDEN');
    expect(hidden.data?.event?.recordedBy ?? null).toBeNull();
  });
});

describe('rate limiting per key', () => {
  it('refuses the operation after the burst with RATE_LIMITED and a Retry-After, and leaves other keys alone', async () => {
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '3' } });
    const viewer = await t.key('VIEWER'); // the admin key's first token
    for (let i = 0; i < 3; i++) expect((await raw(t, '{ me { role } }', { key: viewer })).body.errors).toBeUndefined();
    const { response, body } = await raw(t, '{ me { role } }', { key: viewer });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(body.errors?.[0].extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: Number(response.headers.get('retry-after')),
    });
    expect(body.errors?.[0].message).toMatch(/batches/);
    // The admin key has its own bucket: two tokens left.
    expect((await raw(t, '{ me { role } }')).body.errors).toBeUndefined();
  });

  it('counts WebSocket queries against the same bucket as HTTP requests, but not subscriptions', async () => {
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_BURST: '2' } });
    await t.program('p');
    const viewer = await t.key('VIEWER');
    const url = await listen(t);
    expect((await raw(t, '{ me { role } }', { key: viewer })).body.errors).toBeUndefined();
    const live = connect(url, viewer);
    // Subscriptions are bounded by src/realtime/subscription-admission.ts instead (test/live-reconnect.test.ts).
    for (let i = 0; i < 3; i++)
      expect((await live.subscribe(LiveDashboardDocument, { programId: 'p' }).next()).errors).toBeUndefined();
    expect((await live.subscribe(ProgramsDocument, {}).next()).errors).toBeUndefined();
    const refused = await live.subscribe(ProgramsDocument, {}).next();
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await raw(t, '{ me { role } }', { key: viewer })).response.status).toBe(429);
  });

  it('refills at the configured rate and never beyond the burst', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perMinute: 60, burst: 2 }, () => now);
    expect([buckets.take('k'), buckets.take('k')]).toEqual([0, 0]);
    expect(buckets.take('k')).toBe(1000);
    now += 1000;
    expect(buckets.take('k')).toBe(0);
    now += 3_600_000;
    expect([buckets.take('k'), buckets.take('k'), buckets.take('k')]).toEqual([0, 0, 1000]);
    expect(new TokenBuckets({ perMinute: 0, burst: 1 }).take('k')).toBe(0);
  });
});

describe('the audit log', () => {
  it('records each admin action with its actor and target, secrets redacted, newest first', async () => {
    const t = await testApp();
    await t.program('p');
    const { createApiKey } = await t.ok(CreateApiKeyDocument, {
      input: { name: 'feed', role: 'INTEGRATION', programIds: ['p'] },
    });
    const admin = await t.ok(CreateApiKeyDocument, { input: { name: 'second admin', role: 'ADMIN' } });
    const { setTarget } = await t.ok(
      SetTargetDocument,
      { input: { programId: 'p', kpi: 'CSAT', from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', value: 80 } },
      admin.createApiKey.key,
    );
    await t.ok(CreateWebhookDocument, {
      input: { url: 'https://hooks.example.gov/kpi', secret: 'a-very-secret-signing-key' },
    });
    const event = await t.ok(
      RecordResolutionTimeDocument,
      { input: { programId: 'p', caseId: 'c', days: 1 } },
      createApiKey.key,
    );
    await t.ok(RetractEventDocument, { id: event.recordResolutionTime.event.id });
    await t.ok(RevokeApiKeyDocument, { id: createApiKey.apiKey.id });

    const { auditLog } = await t.ok(AuditLogDocument, {});
    expect(auditLog.map((e) => [e.action, e.actor, e.targetId])).toEqual([
      ['revokeApiKey', 'ADMIN_API_KEY', createApiKey.apiKey.id],
      ['retractEvent', 'ADMIN_API_KEY', event.recordResolutionTime.event.id],
      ['createWebhook', 'ADMIN_API_KEY', expect.any(String)],
      ['setTarget', admin.createApiKey.apiKey.id, setTarget.id],
      ['createApiKey', 'ADMIN_API_KEY', admin.createApiKey.apiKey.id],
      ['createApiKey', 'ADMIN_API_KEY', createApiKey.apiKey.id],
      ['createProgram', 'ADMIN_API_KEY', 'p'],
    ]);
    const webhook = auditLog.find((e) => e.action === 'createWebhook')!;
    expect(JSON.parse(webhook.details)).toMatchObject({
      input: { url: 'https://hooks.example.gov/kpi', secret: '[redacted]' },
    });
    expect(JSON.stringify(auditLog)).not.toContain('a-very-secret-signing-key');
    expect(JSON.stringify(auditLog)).not.toContain(createApiKey.key);

    const filtered = await t.ok(AuditLogDocument, { action: 'createApiKey', limit: 1 });
    expect(filtered.auditLog.map((e) => e.targetId)).toEqual([admin.createApiKey.apiKey.id]);
    const byActor = await t.ok(AuditLogDocument, { actor: admin.createApiKey.apiKey.id });
    expect(byActor.auditLog.map((e) => e.action)).toEqual(['setTarget']);
  });

  it('writes nothing for a refused or failed action, nor for recording', async () => {
    const t = await testApp();
    await t.program('p');
    const viewer = await t.key('VIEWER');
    const before = (await t.ok(AuditLogDocument, {})).auditLog.length;
    expect(onlyError(await t.run(RevokeApiKeyDocument, { id: 'no-such-key' })).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(await t.run(RevokeApiKeyDocument, { id: 'x' }, viewer)).extensions?.code).toBe('FORBIDDEN');
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'p', caseId: 'c', days: 1 } });
    expect((await t.ok(AuditLogDocument, {})).auditLog).toHaveLength(before);
  });

  it('is for admins only, and checks its limit', async () => {
    const t = await testApp();
    const viewer = await t.key('VIEWER');
    expect(onlyError(await t.run(AuditLogDocument, {}, viewer)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await t.run(AuditLogDocument, { limit: 0 })).extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.ok(ProgramsDocument, {})).programs).toEqual([]);
  });

  it('covers every admin mutation of the schema', async () => {
    const { schema } = await import('../src/schema/index.js');
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const audited = mutations.filter((f) => f.extensions.audited).map((f) => f.name);
    const notAudited = mutations.filter((f) => !f.extensions.audited).map((f) => f.name);
    // Recording is not an admin action: each event keeps the key that recorded it instead.
    expect(notAudited.sort()).toEqual(['recordConflict', 'recordEvents', 'recordResolutionTime', 'recordSatisfaction']);
    expect(audited).toContain('revokeApiKey');
  });
});
