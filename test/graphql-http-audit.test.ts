/**
 * graphql-http's GraphQL-over-HTTP audit suite against a running server (with a key, since every
 * operation needs one): all of its audits pass, compression and persisted operations included.
 */
import { auditServer } from 'graphql-http';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, testApp } from './helpers/app.js';

describe('GraphQL over HTTP (graphql-http audit)', () => {
  it('passes every audit', async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    const withKey: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${ADMIN_KEY}`);
      headers.set('accept-encoding', 'gzip, br');
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url, fetchFn: withKey });
    const failed = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failed).toEqual([]);
    expect(results.length).toBe(61);
  });
});
