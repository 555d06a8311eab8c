/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AlertRuleKind =
  /** For each running target of the rule's KPI: the probability of meeting it against the threshold (0 to 1). */
  | 'TARGET_AT_RISK'
  /** The KPI over the rolling window against the threshold. */
  | 'THRESHOLD';

export type AlertState =
  | 'FIRING'
  | 'PENDING'
  | 'RESOLVED';

export type AttributeFilterInput = {
  key: string;
  values: Array<string>;
};

export type AttributeInput = {
  key: string;
  value: string;
};

export type Comparator =
  | 'GT'
  | 'GTE'
  | 'LT'
  | 'LTE';

export type CreateAlertRuleInput = {
  comparator: Comparator;
  enabled?: boolean | null | undefined;
  filter?: Array<AttributeFilterInput> | null | undefined;
  /** Pending period, 0 to 10080 minutes. */
  forMinutes?: number | null | undefined;
  groupBy?: string | null | undefined;
  /** TARGET_AT_RISK: threshold (and recoveryThreshold) are probabilities 0 to 1; windowDays is ignored. */
  kind?: AlertRuleKind | null | undefined;
  kpi: Kpi;
  name: string;
  programId?: string | null | undefined;
  /** Hysteresis: on the healthy side of threshold, or null. */
  recoveryThreshold?: number | null | undefined;
  severity?: Severity | null | undefined;
  threshold: number;
  windowDays?: number | null | undefined;
};

export type CreateAnnotationInput = {
  at: string;
  description?: string | null | undefined;
  programId: string;
  title: string;
};

export type CreateProgramInput = {
  dimensions?: Array<DimensionInput> | null | undefined;
  id: string;
  name: string;
  /** The service standard in days (0 to 36,500); null or absent: none. */
  resolutionStandardDays?: number | null | undefined;
  timezone?: string | null | undefined;
};

export type DimensionInput = {
  key: string;
  label: string;
  maxValues?: number | null | undefined;
};

export type EventInput = {
  attributes?: Array<AttributeInput> | null | undefined;
  caseId: string;
  idempotencyKey?: string | null | undefined;
  kind: EventKind;
  occurredAt?: string | null | undefined;
  programId: string;
  reason?: string | null | undefined;
  value?: number | null | undefined;
};

export type EventKind =
  | 'CONFLICT'
  | 'RESOLUTION_TIME'
  | 'SATISFACTION';

/** Ties are broken by id, in the same direction. In both value orders, events without a value (conflicts) come last. */
export type EventOrder =
  | 'OCCURRED_AT_ASC'
  | 'OCCURRED_AT_DESC'
  | 'VALUE_ASC'
  | 'VALUE_DESC';

export type Granularity =
  | 'DAY'
  | 'HOUR'
  | 'MONTH'
  | 'QUARTER'
  | 'WEEK'
  | 'YEAR';

export type Kpi =
  | 'AVG_RESOLUTION_TIME'
  | 'AVG_SATISFACTION'
  | 'CONFLICT_RATE'
  | 'CSAT'
  | 'MEDIAN_RESOLUTION_TIME'
  | 'P90_RESOLUTION_TIME'
  | 'TOTAL_CONFLICTS'
  | 'WITHIN_STANDARD';

export type KpiDirection =
  | 'HIGHER'
  | 'LOWER';

/** The 95% interval `impact` gives a change in a KPI: Welch's for a mean, Newcombe's for a proportion. */
export type KpiInterval =
  | 'MEAN'
  | 'PROPORTION';

export type KpiUnit =
  | 'COUNT'
  | 'DAYS'
  | 'PERCENT'
  | 'SCORE';

export type RecordConflictInput = {
  attributes?: Array<AttributeInput> | null | undefined;
  caseId: string;
  idempotencyKey?: string | null | undefined;
  occurredAt?: string | null | undefined;
  programId: string;
  reason?: string | null | undefined;
};

export type RecordResolutionTimeInput = {
  attributes?: Array<AttributeInput> | null | undefined;
  caseId: string;
  days: number;
  idempotencyKey?: string | null | undefined;
  occurredAt?: string | null | undefined;
  programId: string;
};

export type RecordSatisfactionInput = {
  attributes?: Array<AttributeInput> | null | undefined;
  caseId: string;
  idempotencyKey?: string | null | undefined;
  occurredAt?: string | null | undefined;
  programId: string;
  score: number;
};

export type Role =
  | 'ADMIN'
  | 'INTEGRATION'
  | 'VIEWER';

export type SetTargetInput = {
  filter?: Array<AttributeFilterInput> | null | undefined;
  from: string;
  kpi: Kpi;
  programId: string;
  to: string;
  value: number;
};

export type Severity =
  | 'CRITICAL'
  | 'INFO'
  | 'WARNING';

export type TargetStatus =
  | 'AT_RISK'
  | 'MET'
  | 'NOT_MET'
  | 'NO_DATA'
  | 'NO_TARGET'
  | 'ON_TRACK';

export type Trend =
  | 'IMPROVING'
  | 'NO_DATA'
  | 'STEADY'
  | 'WORSENING';

/** What to change; a field left out keeps its value. resolutionStandardDays null removes the standard. */
export type UpdateProgramInput = {
  name?: string | null | undefined;
  resolutionStandardDays?: number | null | undefined;
};

export type ClientCreateProgramMutationVariables = Exact<{
  input: CreateProgramInput;
}>;


export type ClientCreateProgramMutation = { createProgram: { id: string, name: string, timezone: string, resolutionStandardDays: number | null, dimensions: Array<{ key: string, label: string, maxValues: number, values: Array<string> }> } };

export type ClientAddDimensionMutationVariables = Exact<{
  programId: string;
  input: DimensionInput;
}>;


export type ClientAddDimensionMutation = { addDimension: { id: string, name: string, timezone: string, resolutionStandardDays: number | null, dimensions: Array<{ key: string, label: string, maxValues: number, values: Array<string> }> } };

export type ClientSetTargetMutationVariables = Exact<{
  input: SetTargetInput;
}>;


export type ClientSetTargetMutation = { setTarget: { id: string, programId: string, kpi: Kpi, from: string, to: string, value: number, filter: Array<{ key: string, values: Array<string> }> } };

export type ClientAcknowledgeAlertMutationVariables = Exact<{
  id: string;
}>;


export type ClientAcknowledgeAlertMutation = { acknowledgeAlert: { id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } } };

export type ClientUpdateProgramMutationVariables = Exact<{
  id: string;
  input: UpdateProgramInput;
}>;


export type ClientUpdateProgramMutation = { updateProgram: { id: string, name: string, timezone: string, resolutionStandardDays: number | null, dimensions: Array<{ key: string, label: string, maxValues: number, values: Array<string> }> } };

export type ClientCreateAnnotationMutationVariables = Exact<{
  input: CreateAnnotationInput;
}>;


export type ClientCreateAnnotationMutation = { createAnnotation: { id: string, programId: string, at: string, title: string, description: string | null } };

export type ClientDeleteAnnotationMutationVariables = Exact<{
  id: string;
}>;


export type ClientDeleteAnnotationMutation = { deleteAnnotation: boolean };

export type ClientAlertRulesQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientAlertRulesQuery = { alertRules: Array<{ id: string, name: string, kind: AlertRuleKind }> };

export type ClientCreateAlertRuleMutationVariables = Exact<{
  input: CreateAlertRuleInput;
}>;


export type ClientCreateAlertRuleMutation = { createAlertRule: { id: string, name: string, kind: AlertRuleKind } };

export type DashboardTotalsFragment = { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, filter: Array<{ key: string, values: Array<string> }>, targets: Array<{ id: string, programId: string, kpi: Kpi, from: string, to: string, value: number }> };

export type AlertSummaryFragment = { id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } };

export type DashboardFullFragment = { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, activeAlerts: Array<{ id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } }>, annotations: Array<{ id: string, programId: string, at: string, title: string, description: string | null }>, series: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }>, filter: Array<{ key: string, values: Array<string> }>, targets: Array<{ id: string, programId: string, kpi: Kpi, from: string, to: string, value: number }> };

export type ClientDashboardQueryVariables = Exact<{
  programId?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
  granularity?: Granularity | null | undefined;
  timezone?: string | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
}>;


export type ClientDashboardQuery = { dashboard: { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, activeAlerts: Array<{ id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } }>, annotations: Array<{ id: string, programId: string, at: string, title: string, description: string | null }>, series: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }>, filter: Array<{ key: string, values: Array<string> }>, targets: Array<{ id: string, programId: string, kpi: Kpi, from: string, to: string, value: number }> } };

export type ClientDashboardUpdatedSubscriptionVariables = Exact<{
  programId?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
  granularity?: Granularity | null | undefined;
  timezone?: string | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
}>;


export type ClientDashboardUpdatedSubscription = { dashboardUpdated: { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, activeAlerts: Array<{ id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } }>, annotations: Array<{ id: string, programId: string, at: string, title: string, description: string | null }>, series: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }>, filter: Array<{ key: string, values: Array<string> }>, targets: Array<{ id: string, programId: string, kpi: Kpi, from: string, to: string, value: number }> } };

export type ClientDashboardTotalsUpdatedSubscriptionVariables = Exact<{
  programId?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
}>;


export type ClientDashboardTotalsUpdatedSubscription = { dashboardUpdated: { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, filter: Array<{ key: string, values: Array<string> }>, targets: Array<{ id: string, programId: string, kpi: Kpi, from: string, to: string, value: number }> } };

export type ClientScorecardQueryVariables = Exact<{
  programId: string;
  from: string;
  to: string;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
}>;


export type ClientScorecardQuery = { scorecard: { programId: string, from: string, to: string, rows: Array<{ kpi: Kpi, target: number | null, actual: number | null, previous: number | null, status: TargetStatus, trend: Trend, forecast: { value: number, low: number, high: number, meetsTargetProbability: number | null } | null }> } };

export type ClientKpisQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientKpisQuery = { kpis: Array<{ key: Kpi, field: string, label: string, unit: KpiUnit, better: KpiDirection, interval: KpiInterval | null }> };

export type ProgramSummaryFragment = { id: string, name: string, timezone: string, resolutionStandardDays: number | null, dimensions: Array<{ key: string, label: string, maxValues: number, values: Array<string> }> };

export type ClientProgramsQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientProgramsQuery = { programs: Array<{ id: string, name: string, timezone: string, resolutionStandardDays: number | null, dimensions: Array<{ key: string, label: string, maxValues: number, values: Array<string> }> }> };

export type ClientMeQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientMeQuery = { me: { keyId: string | null, role: Role, programIds: Array<string> | null } };

export type ClientAlertChangedSubscriptionVariables = Exact<{
  programId?: string | null | undefined;
}>;


export type ClientAlertChangedSubscription = { alertChanged: { id: string, programId: string, state: AlertState, value: number, threshold: number, startedAt: string, firedAt: string | null, resolvedAt: string | null, acknowledgedAt: string | null, rule: { id: string, name: string, kpi: Kpi, comparator: Comparator, threshold: number, windowDays: number, severity: Severity } } };

export type BreakdownRowFullFragment = { value: string | null, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, series?: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }> };

export type ClientBreakdownQueryVariables = Exact<{
  programId?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
  granularity?: Granularity | null | undefined;
  timezone?: string | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
  by: string;
  orderBy?: Kpi | null | undefined;
  descending?: boolean | null | undefined;
  limit?: number | null | undefined;
  withSeries: boolean;
}>;


export type ClientBreakdownQuery = { dashboard: { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, filter: Array<{ key: string, values: Array<string> }>, breakdown: Array<{ value: string | null, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, series?: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }> }> } };

export type ClientBreakdownUpdatedSubscriptionVariables = Exact<{
  programId?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
  granularity?: Granularity | null | undefined;
  timezone?: string | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
  by: string;
  orderBy?: Kpi | null | undefined;
  descending?: boolean | null | undefined;
  limit?: number | null | undefined;
  withSeries: boolean;
}>;


export type ClientBreakdownUpdatedSubscription = { dashboardUpdated: { programId: string | null, from: string | null, to: string | null, granularity: Granularity, timezone: string, filter: Array<{ key: string, values: Array<string> }>, breakdown: Array<{ value: string | null, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, resolvedCases: number, avgSatisfaction: number | null, csat: number | null, satisfactionResponses: number, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, series?: Array<{ start: string, avgResolutionTime: number | null, medianResolutionTime: number | null, p90ResolutionTime: number | null, avgSatisfaction: number | null, csat: number | null, totalConflicts: number, conflictRate: number | null, withinStandard: number | null, resolvedCases: number, satisfactionResponses: number }> }> } };

export type AnnotationSummaryFragment = { id: string, programId: string, at: string, title: string, description: string | null };

export type ClientImpactQueryVariables = Exact<{
  annotationId: string;
  days?: number | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
}>;


export type ClientImpactQuery = { impact: { beforeFrom: string, afterTo: string, annotation: { id: string, programId: string, at: string, title: string, description: string | null }, rows: Array<{ kpi: Kpi, before: number | null, after: number | null, change: number | null, low: number | null, high: number | null, significant: boolean | null }> } };

export type ClientEventsQueryVariables = Exact<{
  programId: string;
  from?: string | null | undefined;
  to?: string | null | undefined;
  kinds?: Array<EventKind> | EventKind | null | undefined;
  filter?: Array<AttributeFilterInput> | AttributeFilterInput | null | undefined;
  caseId?: string | null | undefined;
  includeRetracted?: boolean | null | undefined;
  orderBy?: EventOrder | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ClientEventsQuery = { events: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, kind: EventKind, programId: string, caseId: string, value: number | null, reason: string | null, occurredAt: string, recordedAt: string, retractedAt: string | null, attributes: Array<{ key: string, value: string }> } }> } };

export type RecordedEventFragment = { id: string, kind: EventKind, programId: string, caseId: string, value: number | null, reason: string | null, occurredAt: string, recordedAt: string, attributes: Array<{ key: string, value: string }> };

export type ClientRecordResolutionTimeMutationVariables = Exact<{
  input: RecordResolutionTimeInput;
}>;


export type ClientRecordResolutionTimeMutation = { recordResolutionTime: { duplicate: boolean, event: { id: string, kind: EventKind, programId: string, caseId: string, value: number | null, reason: string | null, occurredAt: string, recordedAt: string, attributes: Array<{ key: string, value: string }> } } };

export type ClientRecordSatisfactionMutationVariables = Exact<{
  input: RecordSatisfactionInput;
}>;


export type ClientRecordSatisfactionMutation = { recordSatisfaction: { duplicate: boolean, event: { id: string, kind: EventKind, programId: string, caseId: string, value: number | null, reason: string | null, occurredAt: string, recordedAt: string, attributes: Array<{ key: string, value: string }> } } };

export type ClientRecordConflictMutationVariables = Exact<{
  input: RecordConflictInput;
}>;


export type ClientRecordConflictMutation = { recordConflict: { duplicate: boolean, event: { id: string, kind: EventKind, programId: string, caseId: string, value: number | null, reason: string | null, occurredAt: string, recordedAt: string, attributes: Array<{ key: string, value: string }> } } };

export type ClientRecordEventsMutationVariables = Exact<{
  events: Array<EventInput> | EventInput;
}>;


export type ClientRecordEventsMutation = { recordEvents: { accepted: number, duplicates: number } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DashboardTotalsFragmentDoc = new TypedDocumentString(`
    fragment DashboardTotals on Dashboard {
  programId
  from
  to
  granularity
  timezone
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  filter {
    key
    values
  }
  targets {
    id
    programId
    kpi
    from
    to
    value
  }
}
    `, {"fragmentName":"DashboardTotals"}) as unknown as TypedDocumentString<DashboardTotalsFragment, unknown>;
export const AlertSummaryFragmentDoc = new TypedDocumentString(`
    fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}
    `, {"fragmentName":"AlertSummary"}) as unknown as TypedDocumentString<AlertSummaryFragment, unknown>;
export const AnnotationSummaryFragmentDoc = new TypedDocumentString(`
    fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}
    `, {"fragmentName":"AnnotationSummary"}) as unknown as TypedDocumentString<AnnotationSummaryFragment, unknown>;
export const DashboardFullFragmentDoc = new TypedDocumentString(`
    fragment DashboardFull on Dashboard {
  ...DashboardTotals
  activeAlerts {
    ...AlertSummary
  }
  annotations {
    ...AnnotationSummary
  }
  series {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}
    fragment DashboardTotals on Dashboard {
  programId
  from
  to
  granularity
  timezone
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  filter {
    key
    values
  }
  targets {
    id
    programId
    kpi
    from
    to
    value
  }
}
fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}
fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}`, {"fragmentName":"DashboardFull"}) as unknown as TypedDocumentString<DashboardFullFragment, unknown>;
export const ProgramSummaryFragmentDoc = new TypedDocumentString(`
    fragment ProgramSummary on Program {
  id
  name
  timezone
  resolutionStandardDays
  dimensions {
    key
    label
    maxValues
    values
  }
}
    `, {"fragmentName":"ProgramSummary"}) as unknown as TypedDocumentString<ProgramSummaryFragment, unknown>;
export const BreakdownRowFullFragmentDoc = new TypedDocumentString(`
    fragment BreakdownRowFull on BreakdownRow {
  value
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  series @include(if: $withSeries) {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}
    `, {"fragmentName":"BreakdownRowFull"}) as unknown as TypedDocumentString<BreakdownRowFullFragment, unknown>;
export const RecordedEventFragmentDoc = new TypedDocumentString(`
    fragment RecordedEvent on MetricEvent {
  id
  kind
  programId
  caseId
  value
  reason
  occurredAt
  recordedAt
  attributes {
    key
    value
  }
}
    `, {"fragmentName":"RecordedEvent"}) as unknown as TypedDocumentString<RecordedEventFragment, unknown>;
export const ClientCreateProgramDocument = new TypedDocumentString(`
    mutation ClientCreateProgram($input: CreateProgramInput!) {
  createProgram(input: $input) {
    ...ProgramSummary
  }
}
    fragment ProgramSummary on Program {
  id
  name
  timezone
  resolutionStandardDays
  dimensions {
    key
    label
    maxValues
    values
  }
}`) as unknown as TypedDocumentString<ClientCreateProgramMutation, ClientCreateProgramMutationVariables>;
export const ClientAddDimensionDocument = new TypedDocumentString(`
    mutation ClientAddDimension($programId: ID!, $input: DimensionInput!) {
  addDimension(programId: $programId, input: $input) {
    ...ProgramSummary
  }
}
    fragment ProgramSummary on Program {
  id
  name
  timezone
  resolutionStandardDays
  dimensions {
    key
    label
    maxValues
    values
  }
}`) as unknown as TypedDocumentString<ClientAddDimensionMutation, ClientAddDimensionMutationVariables>;
export const ClientSetTargetDocument = new TypedDocumentString(`
    mutation ClientSetTarget($input: SetTargetInput!) {
  setTarget(input: $input) {
    id
    programId
    kpi
    from
    to
    value
    filter {
      key
      values
    }
  }
}
    `) as unknown as TypedDocumentString<ClientSetTargetMutation, ClientSetTargetMutationVariables>;
export const ClientAcknowledgeAlertDocument = new TypedDocumentString(`
    mutation ClientAcknowledgeAlert($id: ID!) {
  acknowledgeAlert(id: $id) {
    ...AlertSummary
  }
}
    fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}`) as unknown as TypedDocumentString<ClientAcknowledgeAlertMutation, ClientAcknowledgeAlertMutationVariables>;
export const ClientUpdateProgramDocument = new TypedDocumentString(`
    mutation ClientUpdateProgram($id: ID!, $input: UpdateProgramInput!) {
  updateProgram(id: $id, input: $input) {
    ...ProgramSummary
  }
}
    fragment ProgramSummary on Program {
  id
  name
  timezone
  resolutionStandardDays
  dimensions {
    key
    label
    maxValues
    values
  }
}`) as unknown as TypedDocumentString<ClientUpdateProgramMutation, ClientUpdateProgramMutationVariables>;
export const ClientCreateAnnotationDocument = new TypedDocumentString(`
    mutation ClientCreateAnnotation($input: CreateAnnotationInput!) {
  createAnnotation(input: $input) {
    ...AnnotationSummary
  }
}
    fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}`) as unknown as TypedDocumentString<ClientCreateAnnotationMutation, ClientCreateAnnotationMutationVariables>;
export const ClientDeleteAnnotationDocument = new TypedDocumentString(`
    mutation ClientDeleteAnnotation($id: ID!) {
  deleteAnnotation(id: $id)
}
    `) as unknown as TypedDocumentString<ClientDeleteAnnotationMutation, ClientDeleteAnnotationMutationVariables>;
export const ClientAlertRulesDocument = new TypedDocumentString(`
    query ClientAlertRules {
  alertRules {
    id
    name
    kind
  }
}
    `) as unknown as TypedDocumentString<ClientAlertRulesQuery, ClientAlertRulesQueryVariables>;
export const ClientCreateAlertRuleDocument = new TypedDocumentString(`
    mutation ClientCreateAlertRule($input: CreateAlertRuleInput!) {
  createAlertRule(input: $input) {
    id
    name
    kind
  }
}
    `) as unknown as TypedDocumentString<ClientCreateAlertRuleMutation, ClientCreateAlertRuleMutationVariables>;
export const ClientDashboardDocument = new TypedDocumentString(`
    query ClientDashboard($programId: ID, $from: DateTime, $to: DateTime, $granularity: Granularity, $timezone: String, $filter: [AttributeFilterInput!]) {
  dashboard(
    programId: $programId
    from: $from
    to: $to
    granularity: $granularity
    timezone: $timezone
    filter: $filter
  ) {
    ...DashboardFull
  }
}
    fragment DashboardTotals on Dashboard {
  programId
  from
  to
  granularity
  timezone
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  filter {
    key
    values
  }
  targets {
    id
    programId
    kpi
    from
    to
    value
  }
}
fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}
fragment DashboardFull on Dashboard {
  ...DashboardTotals
  activeAlerts {
    ...AlertSummary
  }
  annotations {
    ...AnnotationSummary
  }
  series {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}
fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}`) as unknown as TypedDocumentString<ClientDashboardQuery, ClientDashboardQueryVariables>;
export const ClientDashboardUpdatedDocument = new TypedDocumentString(`
    subscription ClientDashboardUpdated($programId: ID, $from: DateTime, $to: DateTime, $granularity: Granularity, $timezone: String, $filter: [AttributeFilterInput!]) {
  dashboardUpdated(
    programId: $programId
    from: $from
    to: $to
    granularity: $granularity
    timezone: $timezone
    filter: $filter
  ) {
    ...DashboardFull
  }
}
    fragment DashboardTotals on Dashboard {
  programId
  from
  to
  granularity
  timezone
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  filter {
    key
    values
  }
  targets {
    id
    programId
    kpi
    from
    to
    value
  }
}
fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}
fragment DashboardFull on Dashboard {
  ...DashboardTotals
  activeAlerts {
    ...AlertSummary
  }
  annotations {
    ...AnnotationSummary
  }
  series {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}
fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}`) as unknown as TypedDocumentString<ClientDashboardUpdatedSubscription, ClientDashboardUpdatedSubscriptionVariables>;
export const ClientDashboardTotalsUpdatedDocument = new TypedDocumentString(`
    subscription ClientDashboardTotalsUpdated($programId: ID, $from: DateTime, $to: DateTime, $filter: [AttributeFilterInput!]) {
  dashboardUpdated(programId: $programId, from: $from, to: $to, filter: $filter) {
    ...DashboardTotals
  }
}
    fragment DashboardTotals on Dashboard {
  programId
  from
  to
  granularity
  timezone
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  filter {
    key
    values
  }
  targets {
    id
    programId
    kpi
    from
    to
    value
  }
}`) as unknown as TypedDocumentString<ClientDashboardTotalsUpdatedSubscription, ClientDashboardTotalsUpdatedSubscriptionVariables>;
export const ClientScorecardDocument = new TypedDocumentString(`
    query ClientScorecard($programId: ID!, $from: DateTime!, $to: DateTime!, $filter: [AttributeFilterInput!]) {
  scorecard(programId: $programId, from: $from, to: $to, filter: $filter) {
    programId
    from
    to
    rows {
      kpi
      target
      actual
      previous
      status
      trend
      forecast {
        value
        low
        high
        meetsTargetProbability
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ClientScorecardQuery, ClientScorecardQueryVariables>;
export const ClientKpisDocument = new TypedDocumentString(`
    query ClientKpis {
  kpis {
    key
    field
    label
    unit
    better
    interval
  }
}
    `) as unknown as TypedDocumentString<ClientKpisQuery, ClientKpisQueryVariables>;
export const ClientProgramsDocument = new TypedDocumentString(`
    query ClientPrograms {
  programs {
    ...ProgramSummary
  }
}
    fragment ProgramSummary on Program {
  id
  name
  timezone
  resolutionStandardDays
  dimensions {
    key
    label
    maxValues
    values
  }
}`) as unknown as TypedDocumentString<ClientProgramsQuery, ClientProgramsQueryVariables>;
export const ClientMeDocument = new TypedDocumentString(`
    query ClientMe {
  me {
    keyId
    role
    programIds
  }
}
    `) as unknown as TypedDocumentString<ClientMeQuery, ClientMeQueryVariables>;
export const ClientAlertChangedDocument = new TypedDocumentString(`
    subscription ClientAlertChanged($programId: ID) {
  alertChanged(programId: $programId) {
    ...AlertSummary
  }
}
    fragment AlertSummary on Alert {
  id
  programId
  state
  value
  threshold
  startedAt
  firedAt
  resolvedAt
  acknowledgedAt
  rule {
    id
    name
    kpi
    comparator
    threshold
    windowDays
    severity
  }
}`) as unknown as TypedDocumentString<ClientAlertChangedSubscription, ClientAlertChangedSubscriptionVariables>;
export const ClientBreakdownDocument = new TypedDocumentString(`
    query ClientBreakdown($programId: ID, $from: DateTime, $to: DateTime, $granularity: Granularity, $timezone: String, $filter: [AttributeFilterInput!], $by: String!, $orderBy: Kpi, $descending: Boolean, $limit: Int, $withSeries: Boolean!) {
  dashboard(
    programId: $programId
    from: $from
    to: $to
    granularity: $granularity
    timezone: $timezone
    filter: $filter
  ) {
    programId
    from
    to
    granularity
    timezone
    filter {
      key
      values
    }
    breakdown(by: $by, orderBy: $orderBy, descending: $descending, limit: $limit) {
      ...BreakdownRowFull
    }
  }
}
    fragment BreakdownRowFull on BreakdownRow {
  value
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  series @include(if: $withSeries) {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}`) as unknown as TypedDocumentString<ClientBreakdownQuery, ClientBreakdownQueryVariables>;
export const ClientBreakdownUpdatedDocument = new TypedDocumentString(`
    subscription ClientBreakdownUpdated($programId: ID, $from: DateTime, $to: DateTime, $granularity: Granularity, $timezone: String, $filter: [AttributeFilterInput!], $by: String!, $orderBy: Kpi, $descending: Boolean, $limit: Int, $withSeries: Boolean!) {
  dashboardUpdated(
    programId: $programId
    from: $from
    to: $to
    granularity: $granularity
    timezone: $timezone
    filter: $filter
  ) {
    programId
    from
    to
    granularity
    timezone
    filter {
      key
      values
    }
    breakdown(by: $by, orderBy: $orderBy, descending: $descending, limit: $limit) {
      ...BreakdownRowFull
    }
  }
}
    fragment BreakdownRowFull on BreakdownRow {
  value
  avgResolutionTime
  medianResolutionTime
  p90ResolutionTime
  resolvedCases
  avgSatisfaction
  csat
  satisfactionResponses
  totalConflicts
  conflictRate
  withinStandard
  series @include(if: $withSeries) {
    start
    avgResolutionTime
    medianResolutionTime
    p90ResolutionTime
    avgSatisfaction
    csat
    totalConflicts
    conflictRate
    withinStandard
    resolvedCases
    satisfactionResponses
  }
}`) as unknown as TypedDocumentString<ClientBreakdownUpdatedSubscription, ClientBreakdownUpdatedSubscriptionVariables>;
export const ClientImpactDocument = new TypedDocumentString(`
    query ClientImpact($annotationId: ID!, $days: Int, $filter: [AttributeFilterInput!]) {
  impact(annotationId: $annotationId, days: $days, filter: $filter) {
    annotation {
      ...AnnotationSummary
    }
    beforeFrom
    afterTo
    rows {
      kpi
      before
      after
      change
      low
      high
      significant
    }
  }
}
    fragment AnnotationSummary on Annotation {
  id
  programId
  at
  title
  description
}`) as unknown as TypedDocumentString<ClientImpactQuery, ClientImpactQueryVariables>;
export const ClientEventsDocument = new TypedDocumentString(`
    query ClientEvents($programId: ID!, $from: DateTime, $to: DateTime, $kinds: [EventKind!], $filter: [AttributeFilterInput!], $caseId: String, $includeRetracted: Boolean, $orderBy: EventOrder, $first: Int, $after: String) {
  events(
    programId: $programId
    from: $from
    to: $to
    kinds: $kinds
    filter: $filter
    caseId: $caseId
    includeRetracted: $includeRetracted
    orderBy: $orderBy
    first: $first
    after: $after
  ) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        kind
        programId
        caseId
        value
        reason
        occurredAt
        recordedAt
        retractedAt
        attributes {
          key
          value
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ClientEventsQuery, ClientEventsQueryVariables>;
export const ClientRecordResolutionTimeDocument = new TypedDocumentString(`
    mutation ClientRecordResolutionTime($input: RecordResolutionTimeInput!) {
  recordResolutionTime(input: $input) {
    duplicate
    event {
      ...RecordedEvent
    }
  }
}
    fragment RecordedEvent on MetricEvent {
  id
  kind
  programId
  caseId
  value
  reason
  occurredAt
  recordedAt
  attributes {
    key
    value
  }
}`) as unknown as TypedDocumentString<ClientRecordResolutionTimeMutation, ClientRecordResolutionTimeMutationVariables>;
export const ClientRecordSatisfactionDocument = new TypedDocumentString(`
    mutation ClientRecordSatisfaction($input: RecordSatisfactionInput!) {
  recordSatisfaction(input: $input) {
    duplicate
    event {
      ...RecordedEvent
    }
  }
}
    fragment RecordedEvent on MetricEvent {
  id
  kind
  programId
  caseId
  value
  reason
  occurredAt
  recordedAt
  attributes {
    key
    value
  }
}`) as unknown as TypedDocumentString<ClientRecordSatisfactionMutation, ClientRecordSatisfactionMutationVariables>;
export const ClientRecordConflictDocument = new TypedDocumentString(`
    mutation ClientRecordConflict($input: RecordConflictInput!) {
  recordConflict(input: $input) {
    duplicate
    event {
      ...RecordedEvent
    }
  }
}
    fragment RecordedEvent on MetricEvent {
  id
  kind
  programId
  caseId
  value
  reason
  occurredAt
  recordedAt
  attributes {
    key
    value
  }
}`) as unknown as TypedDocumentString<ClientRecordConflictMutation, ClientRecordConflictMutationVariables>;
export const ClientRecordEventsDocument = new TypedDocumentString(`
    mutation ClientRecordEvents($events: [EventInput!]!) {
  recordEvents(events: $events) {
    accepted
    duplicates
  }
}
    `) as unknown as TypedDocumentString<ClientRecordEventsMutation, ClientRecordEventsMutationVariables>;