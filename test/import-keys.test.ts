/**
 * The keys POST /import/events derives for rows that name none (src/exports/import-key.ts): their
 * form, which is a promise to every file ever imported (a re-post must find them), their order in
 * time, and the migration that rewrote keys stored in the earlier, digest-only form.
 */
import { hash } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { derivedIdempotencyKey, timePart } from '../src/exports/import-key.js';
import type { ValidEvent } from '../src/events/validate.js';
import { ADMIN_KEY, freshDatabaseUrl, testApp } from './helpers/app.js';
import { CreateProgramWithDimensionsDocument } from './generated/operations.js';

const event = (over: Partial<ValidEvent> = {}): ValidEvent => ({
  kind: 'RESOLUTION_TIME',
  programId: 'A',
  caseId: 'case-1',
  value: 4.5,
  reason: null,
  occurredAt: Date.UTC(2026, 10, 1, 12),
  occurredAtGiven: true,
  idempotencyKey: null,
  attributes: null,
  ...over,
});

/** The earlier form, as keys were derived before the migration: `import:` and the digest alone. */
function digestOnlyKey(row: {
  program_id: string;
  kind: string;
  case_id: string;
  value: number | null;
  occurred_at: number | null;
  attributes: string | null;
}): string {
  const attributes = row.attributes
    ? Object.entries(JSON.parse(row.attributes) as Record<string, string>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      )
    : [];
  const payload = [row.program_id, row.kind, row.case_id, row.value, row.occurred_at, attributes];
  return `import:${hash('sha256', JSON.stringify(payload), 'base64url')}`;
}

describe('derived import keys', () => {
  it('keep their exact form (a stored file must be found again by a re-post)', () => {
    expect(derivedIdempotencyKey(event())).toBe('import:1eb3aa59d71600:gWut4r9ZNuvVtRc3-HrApi9otOwe1tfDWCkWuMWVLN0');
    expect(derivedIdempotencyKey(event({ occurredAtGiven: false }))).toBe(
      'import:6YgIF2IV9HxhKJxTw9lZnactldc-hs010czVUk_2a5M',
    );
    // The digest is the earlier form's: the time only comes first.
    const stored = { program_id: 'A', kind: 'RESOLUTION_TIME', case_id: 'case-1', value: 4.5, attributes: null };
    expect(derivedIdempotencyKey(event()).replace(/^import:[0-9a-f]{14}:/, 'import:')).toBe(
      digestOnlyKey({ ...stored, occurred_at: Date.UTC(2026, 10, 1, 12) }),
    );
    expect(derivedIdempotencyKey(event({ occurredAtGiven: false }))).toBe(
      digestOnlyKey({ ...stored, occurred_at: null }),
    );
  });

  it('sort as their instants do, over every instant a Date holds, with a fixed width', () => {
    const instant = fc.integer({ min: -8.64e15, max: 8.64e15 });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const [ka, kb] = [timePart(a), timePart(b)];
        expect(ka).toMatch(/^[0-9a-f]{14}$/);
        expect(kb).toMatch(/^[0-9a-f]{14}$/);
        expect(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0)).toBe(Math.sign(a - b));
      }),
    );
    for (const at of [-8.64e15, -1, 0, 1, 8.64e15]) expect(timePart(at)).toHaveLength(14);
  });

  it('are the same for the same event written another way, and differ when any part of it does', () => {
    const attributes = JSON.stringify({ office: 'North', channel: 'web' });
    const base = derivedIdempotencyKey(event({ attributes }));
    expect(derivedIdempotencyKey(event({ attributes: JSON.stringify({ channel: 'web', office: 'North' }) }))).toBe(
      base,
    );
    expect(derivedIdempotencyKey(event({ attributes, reason: 'another reason' }))).toBe(base);
    for (const other of [
      event({ attributes, programId: 'B' }),
      event({ attributes, kind: 'SATISFACTION' }),
      event({ attributes, caseId: 'case-2' }),
      event({ attributes, value: 4.51 }),
      event({ attributes, occurredAt: Date.UTC(2026, 10, 1, 12) + 1 }),
      event({ attributes, occurredAtGiven: false }),
      event({ attributes: JSON.stringify({ office: 'South', channel: 'web' }) }),
      event(),
    ])
      expect(derivedIdempotencyKey(other)).not.toBe(base);
  });
});

describe('keys stored in the digest-only form', { timeout: 120_000 }, () => {
  it('are rewritten by the migration, so posting the same file again adds nothing', async () => {
    const url = freshDatabaseUrl();
    const HEADER = 'kind,programId,caseId,value,reason,occurredAt,idempotencyKey,attr.office,attr.channel';
    const rows = [HEADER];
    for (let i = 0; i < 300; i++) {
      const at = new Date(Date.UTC(2026, 9, 1) + i * 3_600_000).toISOString();
      const office = i % 3 === 0 ? '' : i % 3 === 1 ? 'North' : 'South';
      const channel = i % 2 ? 'web' : '';
      // Rows without occurredAt (stored at their arrival), and rows with keys of their own, one of them `import:…`.
      rows.push(`SATISFACTION,A,c${i},${1 + (i % 5)},,${i % 10 === 9 ? '' : at},,${office},${channel}`);
    }
    rows.push('CONFLICT,A,own-1,,,2026-10-02T00:00:00Z,import:mine,,');
    rows.push('CONFLICT,A,own-2,,,2026-10-02T00:00:00Z,nightly-7,,');
    const body = `${rows.join('\n')}\n`;
    const n = rows.length - 1;

    const post = async (port: string) => {
      const response = await fetch(`${port}/import/events`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${ADMIN_KEY}` },
        body,
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { accepted: number; duplicates: number; rejected: number };
    };

    const first = await testApp({ env: { DATABASE_URL: url } });
    await first.ok(CreateProgramWithDimensionsDocument, {
      input: {
        id: 'A',
        name: 'A',
        timezone: 'UTC',
        dimensions: [
          { key: 'office', label: 'Office', maxValues: 5 },
          { key: 'channel', label: 'Channel', maxValues: 5 },
        ],
      },
    });
    const base = (await first.app.start()).url.replace(/\/graphql$/, '');
    expect(await post(base)).toMatchObject({ accepted: n, duplicates: 0, rejected: 0 });
    await first.app.stop();

    // The database as the earlier code left it: every derived key in the digest-only form, the migration not run.
    const database = await openDatabase(url);
    const stored = await database.db
      .selectFrom('events')
      .select(['id', 'program_id', 'kind', 'case_id', 'value', 'occurred_at', 'attributes', 'idempotency_key'])
      .execute();
    expect(stored).toHaveLength(n);
    let timed = 0;
    for (const row of stored) {
      const key = row.idempotency_key!;
      if (!/^import:[0-9a-f]{14}:/.test(key)) continue;
      timed++;
      await database.db
        .updateTable('events')
        .set({ idempotency_key: digestOnlyKey(row) })
        .where('id', '=', row.id)
        .execute();
    }
    // Rows with occurredAt (270) took the time-first form; without (30), own keys (2): not.
    expect(timed).toBe(270);
    await sql`delete from kysely_migration where name = ${'2026-12-07-19-import-keys-in-time-order'}`.execute(
      database.db,
    );
    await database.close();

    const second = await testApp({ env: { DATABASE_URL: url } });
    const again = (await second.app.start()).url.replace(/\/graphql$/, '');
    expect(await post(again)).toEqual({ accepted: 0, duplicates: n, rejected: 0, errors: [] });
    await second.app.stop();

    // And each key is now what the service derives: own keys untouched.
    const after = await openDatabase(url);
    const keys = new Map(
      (await after.db.selectFrom('events').select(['case_id', 'idempotency_key']).execute()).map((r) => [
        r.case_id,
        r.idempotency_key,
      ]),
    );
    await after.close();
    expect(keys.get('own-1')).toBe('import:mine');
    expect(keys.get('own-2')).toBe('nightly-7');
    expect(keys.get('c0')).toMatch(/^import:[0-9a-f]{14}:[\w-]{43}$/);
    expect(keys.get('c9')).toMatch(/^import:[\w-]{43}$/);
  });
});
