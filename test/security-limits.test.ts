/**
 * Each limit refuses a request that crosses it by one, before any resolver runs (a refused
 * mutation changes nothing), and accepts one exactly at it.
 */
import { randomUUID } from 'node:crypto';
import { Lexer, Source, TokenKind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ApiKeysDocument, ProgramsDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp, type GraphQLErrorJson, type TestApp } from './helpers/app.js';

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: GraphQLErrorJson[];
}

async function post(t: TestApp, body: BodyInit, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}`, ...headers },
    body,
    // A stream body needs half duplex.
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: response.status, ...((await response.json()) as object) };
}

const send = (t: TestApp, query: string, variables: Record<string, unknown> = {}) =>
  post(t, JSON.stringify({ query, variables }));

function expectRefused(answer: Answer, limit: string) {
  expect(answer.errors?.map((e) => [e.extensions?.code, e.extensions?.limit])).toEqual([['LIMIT_EXCEEDED', limit]]);
  expect(answer.data ?? null).toBeNull();
}

function expectAccepted(answer: Answer) {
  expect(answer.errors).toBeUndefined();
  expect(answer.status).toBe(200);
}

const programCount = async (t: TestApp) => (await t.ok(ProgramsDocument, {})).programs.length;

/** `count` aliased createProgram calls, each making its own program. */
const aliasedCreates = (count: number) =>
  `mutation { ${Array.from({ length: count }, (_, i) => `p${i}: createProgram(input: { id: "p${i}", name: "P${i}" }) { id }`).join(' ')} }`;

function tokenCount(document: string): number {
  const lexer = new Lexer(new Source(document));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

describe('limits on every operation', () => {
  it('are set explicitly, with defaults that fit the 10,000-event batch', () => {
    expect(loadConfig({}).limits).toEqual({
      depth: 6,
      aliases: 15,
      directives: 10,
      tokens: 1000,
      cost: 50_000,
      bodyBytes: 3 * 1024 * 1024,
      expandedSelections: 2000,
      listLength: 1000,
    });
    expect(() => loadConfig({ LIMIT_COST: 'lots' })).toThrow(/LIMIT_COST must be an integer/);
    expect(() => loadConfig({ LIMIT_LIST_LENGTH: '10001' })).toThrow(
      /LIMIT_LIST_LENGTH must be an integer between 1 and 10000/,
    );
  });

  it('refuse a document one alias over the limit and accept one at it', async () => {
    const t = await testApp();
    expectRefused(await send(t, aliasedCreates(16)), 'aliases');
    expect(await programCount(t)).toBe(0);
    expectAccepted(await send(t, aliasedCreates(15)));
    expect(await programCount(t)).toBe(15);
  });

  it('refuse a document one level too deep and accept one at the depth limit', async () => {
    const t = await testApp({ env: { LIMIT_DEPTH: '2' } });
    const create = (selection: string) =>
      send(t, `mutation { createApiKey(input: { name: "deep", role: VIEWER }) { ${selection} } }`);
    expectRefused(await create('apiKey { id }'), 'depth');
    expect((await t.ok(ApiKeysDocument, {})).apiKeys).toHaveLength(0);
    expectAccepted(await create('key'));
    expect((await t.ok(ApiKeysDocument, {})).apiKeys).toHaveLength(1);
  });

  it('refuse one directive over the limit and accept ten', async () => {
    const t = await testApp();
    const create = (directives: number) =>
      send(
        t,
        `mutation { createProgram(input: { id: "d", name: "D" }) { id ${'__typename @include(if: true) '.repeat(directives)}} }`,
      );
    expectRefused(await create(11), 'directives');
    expect(await programCount(t)).toBe(0);
    expectAccepted(await create(10));
    expect(await programCount(t)).toBe(1);
  });

  it('refuse a document one token over the limit and accept one of exactly 1,000 tokens', async () => {
    const t = await testApp();
    await t.program('p');
    // Each list item is one token.
    const withIds = (n: number) =>
      `mutation { createApiKey(input: { name: "t", role: VIEWER, programIds: [${' "p"'.repeat(n)} ] }) { key } }`;
    const base = tokenCount(withIds(0));
    const atLimit = withIds(1000 - base);
    expect(tokenCount(atLimit)).toBe(1000);
    expectRefused(await send(t, withIds(1001 - base)), 'tokens');
    expect((await t.ok(ApiKeysDocument, {})).apiKeys).toHaveLength(0);
    expectAccepted(await send(t, atLimit));
    expect((await t.ok(ApiKeysDocument, {})).apiKeys).toHaveLength(1);
  });

  it('refuse an operation whose cost is one over the limit, before its resolver runs', async () => {
    // createProgram { id } costs 2 (the object and one field); { id name } costs 3.
    const t = await testApp({ env: { LIMIT_COST: '2' } });
    const refused = await send(t, 'mutation { createProgram(input: { id: "c", name: "C" }) { id name } }');
    expectRefused(refused, 'cost');
    expect(refused.errors![0].message).toMatch(/estimated cost \(at least 3\) exceeds the limit of 2/);
    expectAccepted(await send(t, 'mutation { createProgram(input: { id: "c", name: "C" }) { id } }'));
  });

  it('count list sizes in the cost: a limit argument, literal or variable, multiplies what each item costs', async () => {
    // 1,000 alerts of (1 + 2 fields) = 3,000, and me { role } = 2.
    const t = await testApp({ env: { LIMIT_COST: '3002' } });
    expectAccepted(await send(t, '{ alerts(limit: 1000) { id state } me { role } }'));
    expectRefused(await send(t, '{ alerts(limit: 1000) { id state } me { role keyId } }'), 'cost');
    expectAccepted(await send(t, 'query ($n: Int) { alerts(limit: $n) { id state } me { role } }', { n: 1000 }));
    expectRefused(
      await send(t, 'query ($n: Int) { alerts(limit: $n) { id state } me { role keyId } }', { n: 1000 }),
      'cost',
    );
  });

  it('cost the same document anew when its variables bound a list, and alike every time when none can', async () => {
    const t = await testApp({ env: { LIMIT_COST: '3002' } });
    const query = 'query ($n: Int) { alerts(limit: $n) { id state } me { role } }';
    expectAccepted(await send(t, query, { n: 1000 }));
    expectRefused(await send(t, query, { n: 1001 }), 'cost');
    expectAccepted(await send(t, query, { n: 10 }));
    // Input-object variables bound no list: the cost is the document's alone, refused each time.
    const heavy = 'mutation ($input: CreateProgramInput!) { createProgram(input: $input) { id name } }';
    const cheap = await testApp({ env: { LIMIT_COST: '2' } });
    for (const id of ['a', 'b']) expectRefused(await send(cheap, heavy, { input: { id, name: id } }), 'cost');
    expect(await cheap.app.services.db.selectFrom('programs').select('id').execute()).toEqual([]);
  });

  it("count a dashboard series by its range's buckets, and an open range as the most buckets allowed", async () => {
    const t = await testApp({ env: { LIMIT_COST: '1000' } });
    await t.program('p');
    // Ten days of DAY buckets is at most 12 points (a DST day is 23 hours), each 1 + 2 fields.
    const series = (range: string) =>
      send(t, `{ dashboard(programId: "p"${range}) { series { start resolvedCases } } }`);
    expectAccepted(await series(', from: "2026-03-01T00:00:00Z", to: "2026-03-11T00:00:00Z"'));
    // Open: 2,000 buckets × 3.
    expectRefused(await series(''), 'cost');
  });

  it('leave out of the cost what @skip and @include leave out of the answer', async () => {
    const t = await testApp({ env: { LIMIT_COST: '1000' } });
    await t.program('p');
    // An open range's series costs 2,000 buckets × 3 and is refused; skipped, the query costs 3.
    const query =
      'query ($s: Boolean!) { dashboard(programId: "p") { resolvedCases series @include(if: $s) { start resolvedCases } } }';
    expectRefused(await send(t, query, { s: true }), 'cost');
    expectAccepted(await send(t, query, { s: false }));
    const skipped = '{ dashboard(programId: "p") { resolvedCases ... @skip(if: true) { series { start } } } }';
    expectAccepted(await send(t, skipped));
  });

  it('accept the heaviest realistic page query under the default cost limit', async () => {
    const t = await testApp();
    await t.program('p');
    const page = `{
      dashboard(programId: "p") {
        avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases avgSatisfaction csat
        satisfactionResponses totalConflicts conflictRate timezone
        series { start avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases avgSatisfaction csat totalConflicts conflictRate }
        activeAlerts { id state value threshold startedAt rule { id name kpi severity } }
      }
      kpis { key label unit better field }
      programs { id name timezone }
    }`;
    expectAccepted(await send(t, page));
  });

  describe('the body size limit', () => {
    /** A realistic 10,000-event recordEvents body, padded with JSON whitespace to `size` bytes. */
    function batchBody(size: number): string {
      const kinds = ['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const;
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        kind: kinds[i % 3],
        programId: 'veterans-benefits',
        caseId: `VB-2026-${String(i).padStart(7, '0')}`,
        value: i % 3 === 0 ? (i % 3000) / 100 : i % 3 === 1 ? 1 + (i % 5) : null,
        occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
        idempotencyKey: randomUUID(),
        ...(i % 3 === 2 ? { reason: 'escalated to supervisor after appeal' } : {}),
      }));
      const body = JSON.stringify({
        query:
          'mutation RecordEvents($events: [EventInput!]!) { recordEvents(events: $events) { accepted duplicates } }',
        variables: { events },
      });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(size);
      return body + ' '.repeat(size - Buffer.byteLength(body));
    }

    const eventCount = async (t: TestApp) =>
      Number(
        (
          await t.app.services.db
            .selectFrom('events')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('accepts a 10,000-event batch of exactly the limit and refuses one byte more with 413, storing nothing', async () => {
      const t = await testApp();
      await t.program('veterans-benefits');
      const max = t.config.limits.bodyBytes;
      const atLimit = batchBody(max);
      const over = await post(t, `${atLimit} `);
      expect(over.status).toBe(413);
      expectRefused(over, 'bodyBytes');
      expect(await eventCount(t)).toBe(0);

      const accepted = await post(t, atLimit);
      expectAccepted(accepted);
      expect(accepted.data).toEqual({ recordEvents: { accepted: 10_000, duplicates: 0 } });
    });

    it('counts the bytes of a body sent without Content-Length and stops reading at the limit', async () => {
      const t = await testApp({ env: { LIMIT_BODY_BYTES: '2048' } });
      const streamOf = (text: string) =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            const bytes = new TextEncoder().encode(text);
            for (let i = 0; i < bytes.length; i += 500) controller.enqueue(bytes.subarray(i, i + 500));
            controller.close();
          },
        });
      const query = JSON.stringify({ query: 'mutation { createProgram(input: { id: "s", name: "S" }) { id } }' });
      const refused = await post(t, streamOf(query.padEnd(2049, ' ')));
      expect(refused.status).toBe(413);
      expectRefused(refused, 'bodyBytes');
      expect(await programCount(t)).toBe(0);
      expectAccepted(await post(t, streamOf(query.padEnd(2048, ' '))));
      expect(await programCount(t)).toBe(1);
    });
  });
});
