/** Keys and roles: hashed secrets, bootstrap, scoping, revocation, and who may do what. */
import { describe, expect, it } from 'vitest';
import { ensureAdminKey } from '../src/auth/bootstrap.js';
import {
  ApiKeysDocument,
  CreateApiKeyDocument,
  CreateProgramDocument,
  DashboardDocument,
  ProgramDocument,
  ProgramsDocument,
  RecordConflictDocument,
  RecordResolutionTimeDocument,
  RevokeApiKeyDocument,
} from './generated/operations.js';
import { ADMIN_KEY, onlyError, testApp } from './helpers/app.js';

describe('authentication', () => {
  it('refuses a request without a key, with a malformed header, or with an unknown key: UNAUTHENTICATED', async () => {
    const t = await testApp();
    for (const key of [null, 'not-a-real-key']) {
      const result = await t.run(ProgramsDocument, {}, key);
      expect(result.status).toBe(401);
      expect(onlyError(result).extensions?.code).toBe('UNAUTHENTICATED');
    }
    const response = await t.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ query: '{ programs { id } }' }),
    });
    expect(response.status).toBe(401);
  });

  it('stores only a digest of each secret, never the secret itself', async () => {
    const t = await testApp();
    const { createApiKey } = await t.ok(CreateApiKeyDocument, { input: { name: 'ingest', role: 'INTEGRATION' } });
    expect(createApiKey.key).toMatch(/^kpi_/);
    const rows = await t.app.services.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(createApiKey.key);
    const listed = await t.ok(ApiKeysDocument, {});
    expect(listed.apiKeys.map((k) => k.name)).toEqual(['ingest']);
  });

  it('refuses a revoked key on its next request', async () => {
    const t = await testApp();
    await t.program('HA');
    const viewer = await t.ok(CreateApiKeyDocument, { input: { name: 'v', role: 'VIEWER' } });
    expect((await t.run(ProgramsDocument, {}, viewer.createApiKey.key)).errors).toBeUndefined();
    const { revokeApiKey } = await t.ok(RevokeApiKeyDocument, { id: viewer.createApiKey.apiKey.id });
    expect(revokeApiKey.revokedAt).not.toBeNull();
    const error = onlyError(await t.run(ProgramsDocument, {}, viewer.createApiKey.key));
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/revoked/);
  });

  it("refuses a key another instance revoked once its 'keyRevoked' notice arrives, though this instance had just used it", async () => {
    const t = await testApp();
    const viewer = await t.ok(CreateApiKeyDocument, { input: { name: 'v', role: 'VIEWER' } });
    expect((await t.run(ProgramsDocument, {}, viewer.createApiKey.key)).errors).toBeUndefined();
    // Another instance revokes it: the row changes, and the notice comes over the bus (Redis).
    const id = viewer.createApiKey.apiKey.id;
    await t.app.services.db.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).execute();
    t.app.services.pubsub.publishLocal('keyRevoked', id);
    await new Promise((resolve) => setImmediate(resolve));
    const error = onlyError(await t.run(ProgramsDocument, {}, viewer.createApiKey.key));
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('creates one admin key on a first start with no keys and no ADMIN_API_KEY, and none after', async () => {
    const t = await testApp();
    const config = { ...t.config, adminApiKey: null };
    const secret = await ensureAdminKey(t.app.services.db, config, Date.now());
    expect(secret).toMatch(/^kpi_/);
    expect(await ensureAdminKey(t.app.services.db, config, Date.now())).toBeNull();
    const result = await t.ok(ApiKeysDocument, {}, secret);
    expect(result.apiKeys).toHaveLength(1);
    expect(result.apiKeys[0].role).toBe('ADMIN');
  });

  it('creates no key at start when ADMIN_API_KEY is set', async () => {
    const t = await testApp();
    expect(await ensureAdminKey(t.app.services.db, t.config, Date.now())).toBeNull();
  });
});

describe('roles', () => {
  it('lets a VIEWER read but not record, create programs or manage keys', async () => {
    const t = await testApp();
    await t.program('HA');
    const viewer = await t.key('VIEWER');
    expect((await t.run(DashboardDocument, { programId: 'HA' }, viewer)).errors).toBeUndefined();
    const denied = [
      await t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c' } }, viewer),
      await t.run(CreateProgramDocument, { input: { id: 'X', name: 'X' } }, viewer),
      await t.run(CreateApiKeyDocument, { input: { name: 'x', role: 'ADMIN' } }, viewer),
      await t.run(ApiKeysDocument, {}, viewer),
    ];
    for (const result of denied) expect(onlyError(result).extensions?.code).toBe('FORBIDDEN');
    const stored = await t.app.services.db.selectFrom('events').selectAll().execute();
    expect(stored).toHaveLength(0);
  });

  it('lets an INTEGRATION record and read what its mutation returns, but not read dashboards', async () => {
    const t = await testApp();
    await t.program('HA');
    const integration = await t.key('INTEGRATION');
    const { recordResolutionTime } = await t.ok(
      RecordResolutionTimeDocument,
      { input: { programId: 'HA', caseId: 'c', days: 2 } },
      integration,
    );
    expect(recordResolutionTime.event.value).toBe(2);
    expect(onlyError(await t.run(DashboardDocument, { programId: 'HA' }, integration)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(onlyError(await t.run(ProgramsDocument, {}, integration)).extensions?.code).toBe('FORBIDDEN');
  });

  it('limits keys to their programIds: no recording into, and no reading of, another program', async () => {
    const t = await testApp();
    await t.program('A');
    await t.program('B');
    const integration = await t.key('INTEGRATION', ['A']);
    const viewer = await t.key('VIEWER', ['A']);
    await t.ok(RecordConflictDocument, { input: { programId: 'A', caseId: 'c' } }, integration);
    expect(
      onlyError(await t.run(RecordConflictDocument, { input: { programId: 'B', caseId: 'c' } }, integration)).extensions
        ?.code,
    ).toBe('FORBIDDEN');
    expect((await t.ok(ProgramsDocument, {}, viewer)).programs.map((p) => p.id)).toEqual(['A']);
    expect(onlyError(await t.run(ProgramDocument, { id: 'B' }, viewer)).extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses a key scoped to an unknown program', async () => {
    const t = await testApp();
    const error = onlyError(
      await t.run(CreateApiKeyDocument, { input: { name: 'x', role: 'VIEWER', programIds: ['NOPE'] } }),
    );
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect(await t.ok(ApiKeysDocument, {}, ADMIN_KEY)).toEqual({ apiKeys: [] });
  });
});

describe('programs', () => {
  it('creates a program with a validated IANA time zone, UTC by default', async () => {
    const t = await testApp();
    const created = await t.ok(CreateProgramDocument, { input: { id: 'HA', name: 'Housing Assistance' } });
    expect(created.createProgram).toEqual({ id: 'HA', name: 'Housing Assistance', timezone: 'UTC' });
    const ny = await t.ok(CreateProgramDocument, {
      input: { id: 'NY', name: 'New York', timezone: 'America/New_York' },
    });
    expect(ny.createProgram.timezone).toBe('America/New_York');
    expect((await t.ok(ProgramsDocument, {})).programs.map((p) => p.id)).toEqual(['HA', 'NY']);
    expect((await t.ok(ProgramDocument, { id: 'NY' })).program?.name).toBe('New York');
    expect((await t.ok(ProgramDocument, { id: 'NOPE' })).program).toBeNull();
  });

  it('refuses a time zone that is not IANA, an empty name, a bad id, and a duplicate id', async () => {
    const t = await testApp();
    await t.program('HA');
    const cases: [Parameters<typeof t.run>[1], string, string][] = [
      [{ input: { id: 'X', name: 'X', timezone: 'EST5EDT-ish' } }, 'BAD_USER_INPUT', 'timezone'],
      [{ input: { id: 'X', name: '  ' } }, 'BAD_USER_INPUT', 'name'],
      [{ input: { id: 'has space', name: 'X' } }, 'BAD_USER_INPUT', 'id'],
      [{ input: { id: 'HA', name: 'again' } }, 'CONFLICT', 'HA'],
    ];
    for (const [vars, code, mentions] of cases) {
      const error = onlyError(await t.run(CreateProgramDocument, vars as never));
      expect(error.extensions?.code).toBe(code);
      expect(error.message).toContain(mentions);
    }
    expect((await t.ok(ProgramsDocument, {})).programs).toHaveLength(1);
  });
});
