/**
 * The bench's dimensions (issue 18): every program declares office (50 values), channel (5) and
 * case type (20), and every event carries all three. Values are named so that the load generator,
 * the bulk loader and the queries agree without sharing state.
 */
const pad = (n: number) => String(n + 1).padStart(2, '0');

export const OFFICES = Array.from({ length: 50 }, (_, i) => `office-${pad(i)}`);
export const CHANNELS = ['web', 'phone', 'mail', 'in person', 'chat'];
export const CASE_TYPES = Array.from({ length: 20 }, (_, i) => `type-${pad(i)}`);

export const DIMENSIONS = [
  { key: 'office', label: 'Office', maxValues: 100, values: OFFICES },
  { key: 'channel', label: 'Channel', maxValues: 10, values: CHANNELS },
  { key: 'case_type', label: 'Case type', maxValues: 50, values: CASE_TYPES },
] as const;

/** The attributes of the `k`th event from three numbers in [0, 1) (a generator's, or a hash's). */
export function attributesOf(a: number, b: number, c: number): Record<string, string> {
  return {
    office: OFFICES[Math.floor(a * OFFICES.length)],
    channel: CHANNELS[Math.floor(b * CHANNELS.length)],
    case_type: CASE_TYPES[Math.floor(c * CASE_TYPES.length)],
  };
}

/** The reads the targets name (bench/breakdowns.ts measures them, bench/read-paths.ts too): one program's year, a DAY series. */
const KPIS =
  'avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases avgSatisfaction csat satisfactionResponses totalConflicts conflictRate';
const SERIES = `series { start ${KPIS} }`;
const SCOPE = '$programId: ID, $from: DateTime, $to: DateTime, $filter: [AttributeFilterInput!]';
const ARGS = 'programId: $programId, from: $from, to: $to, granularity: DAY, filter: $filter';
export const FILTERED = `query (${SCOPE}) { dashboard(${ARGS}) { ${KPIS} ${SERIES} } }`;
export const BREAKDOWN = `query (${SCOPE}) { dashboard(${ARGS}) { breakdown(by: "office", limit: 50) { value ${KPIS} ${SERIES} } } }`;
export const BREAKDOWN_TOTALS = `query (${SCOPE}) { dashboard(${ARGS}) { breakdown(by: "office", limit: 50) { value ${KPIS} } } }`;

/** The part of bench/REPORT.md that `npm run bench:breakdowns` writes. */
export const BREAKDOWNS_SECTION = 'breakdowns';
