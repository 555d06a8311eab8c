/**
 * A server under load, in its own process: `app` is the service itself (buildApp on the given
 * SQLite file), `yoga` a bare graphql-yoga server answering a trivial query, the baseline.
 * Tells its parent the URL once listening, and its memory and commit count when asked.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

import { BENCH_ADMIN_KEY } from './dataset.js';

async function startApp(databaseUrl: string, settings: Record<string, string>) {
  // Request logs off (LOG_LEVEL=warn): the bench measures the service, not a terminal's write speed.
  // Per-key rate limiting off: fifty clients share one key here, where a real integration would batch.
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    PORT: '0',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    ...settings,
  });
  const app = await buildApp(config);
  const { url } = await app.start();
  return { url, stop: () => app.stop(), commits: () => app.services.recorder.commits };
}

async function startBareYoga() {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } }),
    landingPage: false,
    graphiql: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
    commits: () => 0,
  };
}

const [kind, databaseUrl, settings] = process.argv.slice(2);
const server = kind === 'yoga' ? await startBareYoga() : await startApp(databaseUrl, JSON.parse(settings || '{}'));
process.on('message', async (message: { type: string }) => {
  if (message.type === 'stats') {
    const maxRss = process.resourceUsage().maxRSS * 1024;
    process.send!({ type: 'stats', rss: process.memoryUsage().rss, maxRss, commits: server.commits() });
  } else if (message.type === 'stop') {
    await server.stop();
    process.exit(0);
  }
});
process.send!({ type: 'ready', url: server.url });
