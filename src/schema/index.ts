/** Imports every module's types and prints the schema; nothing is defined here. */
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import '../kpis/kpi.schema.js';
import '../programs/programs.schema.js';
import '../auth/keys.schema.js';
import '../events/events.schema.js';
import '../events/drilldown.schema.js';
import '../dashboards/dashboard.schema.js';
import '../dashboards/live.schema.js';
import '../targets/targets.schema.js';
import '../alerts/alerts.schema.js';
import '../alerts/webhooks.schema.js';
import '../audit/audit.schema.js';
import '../annotations/annotations.schema.js';

export const schema = lexicographicSortSchema(builder.toSchema());
