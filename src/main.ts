/** config → database → app → listen; SIGTERM/SIGINT drain and close. */
import { ensureAdminKey } from './auth/bootstrap.js';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const app = await buildApp(config);
  const { url } = await app.start();
  console.log(`KPI monitoring service listening on ${url} (database: ${config.databaseUrl})`);
  const page = new URL('/', url).toString();
  const secret = await ensureAdminKey(app.services.db, config, Date.now());
  if (secret) {
    console.log('No API key existed, so an admin key was created. It is shown once; keep it safe:');
    console.log(`  ${secret}`);
    // The key travels in the fragment, which browsers never send to a server; the page stores it and strips it.
    console.log(`Dashboard, signed in: ${page}#key=${encodeURIComponent(secret)}`);
    console.log(`Sample data: KPI_API_KEY=${secret} npm run demo`);
    console.log(`  curl -H 'Authorization: Bearer ${secret}' -H 'Content-Type: application/json' \\`);
    console.log(`       -d '{"query":"{ programs { id name } }"}' ${url}`);
  } else {
    console.log(`Dashboard: ${page} (sign in with an API key)`);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: draining and closing`);
    const timer = setTimeout(() => {
      console.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    timer.unref();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error('failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
