/**
 * `npx tsx bench/attack-cpu.ts`: the CPU time one request costs the server, in-process through
 * app.fetch, for a plain `{ programs { id } }` query and for a 20-level fragment fan-out document
 * (a new operation name each, so no cache helps). CPU time, unlike wall time, hardly moves with
 * the machine's load: it tells how much of the server one attacker's request takes.
 * `LIMIT_EXPANDED_SELECTIONS=1000000 npx tsx bench/attack-cpu.ts` lets the fan-out document through
 * validation, as before that bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const REQUESTS = 300;

function fanOutDocument(n: number, levels = 20): string {
  let document = `query Q${n} { ...F0 }\n`;
  for (let i = 0; i < levels; i++) document += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }\n`;
  return `${document}fragment F${levels} on Query { programs { id } }\n`;
}

const dir = mkdtempSync(path.join(tmpdir(), 'attack-cpu-'));
const app = await buildApp(
  loadConfig({
    DATABASE_URL: path.join(dir, 'bench.db'),
    ADMIN_API_KEY: 'bench-admin-key',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    LIMIT_EXPANDED_SELECTIONS: process.env.LIMIT_EXPANDED_SELECTIONS ?? '',
  }),
);
const send = async (query: string) => {
  const response = await app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-admin-key' },
    body: JSON.stringify({ query }),
  });
  return response.text();
};

const documents = {
  'plain query': (i: number) => `query Q${i} { programs { id } }`,
  'fan-out document': (i: number) => fanOutDocument(i),
};
try {
  for (const [name, document] of Object.entries(documents)) {
    for (let i = 0; i < 30; i++) await send(document(1_000_000 + i)); // warm-up
    const before = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await send(document(i));
    const used = process.cpuUsage(before);
    console.log(`${name.padEnd(18)} ${((used.user + used.system) / 1000 / REQUESTS).toFixed(2)} ms CPU per request`);
  }
  console.log('fan-out answer:', (await send(fanOutDocument(999_999))).slice(0, 160));
} finally {
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
}
