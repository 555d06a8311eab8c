/**
 * `/health` says the process is alive (yoga answers it); `/ready` says it can do its work now:
 * the database answers and is migrated, and every dependency that registered a check (Redis when
 * REDIS_URL is set) is connected. Load balancers send traffic only to ready instances.
 */
import { useReadinessCheck } from 'graphql-yoga';
import type { OpenDatabase } from '../db/database.js';
import { migrationStatus } from '../db/migrate.js';

/** Resolves when the dependency is usable; throws when it is not (NotReady for a reason worth showing). */
export type ReadinessCheck = () => Promise<void>;

/** A reason safe to show on /ready; any other error reads "unavailable", so no SQL or path leaks. */
export class NotReady extends Error {}

export interface ReadinessReport {
  ready: boolean;
  /** 'ok' or why not, per check. */
  checks: Record<string, string>;
}

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  /** Registers a dependency, e.g. `readiness.add('redis', async () => { await redis.ping(); })`. */
  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** From shutdown on the instance reports not ready, so load balancers stop sending it work. */
  drain(): void {
    this.draining = true;
  }

  async report(timeoutMs = 2_000): Promise<ReadinessReport> {
    const checks: Record<string, string> = {};
    if (this.draining) checks.shutdown = 'shutting down';
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise(
              (_, reject) =>
                (timer = setTimeout(() => reject(new NotReady(`no answer within ${timeoutMs} ms`)), timeoutMs)),
            ),
          ]);
          checks[name] = 'ok';
        } catch (error) {
          checks[name] = error instanceof NotReady ? error.message : 'unavailable';
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  }
}

/** The database answers a query and has every migration this code knows (and none it does not). */
export function databaseCheck(database: OpenDatabase): ReadinessCheck {
  return async () => {
    const { pending, unknown } = await migrationStatus(database);
    if (pending.length > 0) throw new NotReady(`migrations not applied: ${pending.join(', ')}`);
    if (unknown.length > 0) throw new NotReady(`migrated by a newer version: ${unknown.join(', ')}`);
  };
}

/** Yoga plugin answering GET /ready with 200 or 503 and the report as JSON (no secrets in it). */
export function useReadiness(readiness: Readiness, endpoint = '/ready') {
  return useReadinessCheck({
    endpoint,
    check: async ({ fetchAPI }) => {
      const report = await readiness.report();
      return new fetchAPI.Response(JSON.stringify(report), {
        status: report.ready ? 200 : 503,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    },
  });
}
