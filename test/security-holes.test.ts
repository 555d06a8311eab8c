/**
 * The holes a hostile client found in the second security pass (issue 17), one case each: every
 * case here failed on the code before its fix.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, testApp, type GraphQLErrorJson, type TestApp } from './helpers/app.js';

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: GraphQLErrorJson[];
}

async function send(t: TestApp, query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY) {
  const response = await t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) } as Answer;
}

/** A chain of `levels` fragments, each spreading the next one twice, ending in `leaf`. */
function fanOut(levels: number, leaf: string, on = 'Query') {
  let document = '';
  for (let i = 0; i < levels; i++) document += `fragment F${i} on ${on} { ...F${i + 1} ...F${i + 1} }\n`;
  return `${document}fragment F${levels} on ${on} { ${leaf} }\n`;
}

describe('exponential fragment fan-out', () => {
  // 2^60 spreads: the walk before the fix never ended, and the event loop with it.
  it('costs a fragment spread twice in one selection once, as execution collects it', async () => {
    const t = await testApp();
    await t.program('A');
    const answer = await send(t, `query { ...F0 }\n${fanOut(60, 'programs { id }')}`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ programs: [{ id: 'A' }] });
  });
});
