/**
 * `npm run backup -- FILE`: a consistent copy of the SQLite database (DATABASE_URL, by default
 * ./data/metrics.db) while the service keeps running and writing, checked before it is kept.
 * `npm run restore -- FILE` puts one back, with the service stopped (README, "Backups").
 * How it works, and why, is in src/db/backup.ts.
 */
import { backupDatabase, BackupError, restoreDatabase } from '../src/db/backup.js';
import { NewerDatabaseError } from '../src/db/migrate.js';

const [command, file, ...rest] = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL || './data/metrics.db';

async function main() {
  if ((command !== 'backup' && command !== 'restore') || !file || rest.length > 0) {
    console.error('usage: npm run backup -- FILE   |   npm run restore -- FILE');
    return 2;
  }
  if (command === 'backup') {
    const { file: written, bytes, events, ms } = await backupDatabase(databaseUrl, file);
    console.log(
      `backed up ${databaseUrl} to ${written}: ${(bytes / 2 ** 20).toFixed(1)} MiB, ${events} events, integrity ok (${ms} ms)`,
    );
  } else {
    const { file: restored, events, pending } = await restoreDatabase(file, databaseUrl);
    console.log(
      `restored ${file} into ${restored}: ${events} events, integrity ok` +
        (pending.length ? `; the service applies ${pending.length} newer migration(s) when it starts` : ''),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    const known = error instanceof BackupError || error instanceof NewerDatabaseError;
    console.error(`${command} failed: ${known ? error.message : error instanceof Error ? error.stack : error}`);
    process.exit(1);
  },
);
