/** Input that graphql-js refuses by itself still comes back coded, and NUL never reaches the database. */
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, testApp } from './helpers/app.js';

async function post(t: Awaited<ReturnType<typeof testApp>>, query: string, variables?: Record<string, unknown>) {
  const response = await t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe('input errors', () => {
  it('codes a variable that does not coerce as BAD_USER_INPUT', async () => {
    const t = await testApp();
    const wrongType = await post(
      t,
      'mutation($d: Float!) { recordResolutionTime(input: {programId: "HA", caseId: "c", days: $d}) { duplicate } }',
      { d: 'five' },
    );
    expect(wrongType.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrongType.errors?.[0].message).toContain('$d');
    const missing = await post(t, 'query($id: ID!) { program(id: $id) { id } }', {});
    expect(missing.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses strings holding U+0000, in variables and in literals, before anything runs', async () => {
    const t = await testApp();
    await t.program('HA');
    const inVariable = await post(t, 'query($id: ID!) { program(id: $id) { id } }', { id: 'H\u0000A' });
    expect(inVariable.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const inLiteral = await post(
      t,
      'mutation { recordConflict(input: {programId: "HA", caseId: "a\\u0000b"}) { duplicate } }',
    );
    expect(inLiteral.errors?.[0].message).toMatch(/NUL/);
    const stored = await t.app.services.db.selectFrom('events').selectAll().execute();
    expect(stored).toHaveLength(0);
  });
});
