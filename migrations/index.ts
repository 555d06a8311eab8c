/** Every migration, by name; names sort in the order they apply. Add one line per new file. */
import type { Migration } from 'kysely';
import * as initial from './2026-11-26-01-initial.js';
import * as alerts from './2026-11-27-05-alerts.js';
import * as targets from './2026-11-27-06-targets.js';
import * as auditLog from './2026-11-28-07-audit-log.js';
import * as rollupsRebuilt from './2026-11-28-10-rollups-rebuilt.js';
import * as idempotencyIndexPartial from './2026-11-29-11-idempotency-index-partial.js';
import * as exactSums from './2026-12-01-10-exact-sums.js';
import * as dimensions from './2026-12-01-30-dimensions.js';
import * as drilldownIndexes from './2026-12-07-19-drilldown-indexes.js';
import * as importKeysInTimeOrder from './2026-12-07-19-import-keys-in-time-order.js';
import * as serviceStandards from './2026-12-07-20-service-standards.js';
import * as annotations from './2026-12-07-21-annotations.js';
import * as eventsLiveCovering from './2026-12-07-22-events-live-covering.js';
import * as rollupAnswers from './2026-12-07-23-rollup-answers.js';

export const migrations: Record<string, Migration> = {
  '2026-11-26-01-initial': initial,
  '2026-11-27-05-alerts': alerts,
  '2026-11-27-06-targets': targets,
  '2026-11-28-07-audit-log': auditLog,
  '2026-11-28-10-rollups-rebuilt': rollupsRebuilt,
  '2026-11-29-11-idempotency-index-partial': idempotencyIndexPartial,
  '2026-12-01-10-exact-sums': exactSums,
  '2026-12-01-30-dimensions': dimensions,
  '2026-12-07-19-drilldown-indexes': drilldownIndexes,
  '2026-12-07-19-import-keys-in-time-order': importKeysInTimeOrder,
  '2026-12-07-20-service-standards': serviceStandards,
  '2026-12-07-21-annotations': annotations,
  '2026-12-07-22-events-live-covering': eventsLiveCovering,
  '2026-12-07-23-rollup-answers': rollupAnswers,
};
