/** Alert rules, alerts and their history, Dashboard.activeAlerts, and the alertChanged subscription. */
import { randomUUID } from 'node:crypto';
import { filter, pipe } from 'graphql-yoga';
import { assertManages } from '../auth/caller.js';
import type { Context } from '../context.js';
import { DashboardRef } from '../dashboards/dashboard.schema.js';
import { KpiEnum } from '../kpis/kpi.schema.js';
import type { KpiKey } from '../kpis/registry.js';
import { canSeeOwned, visibleOwned, visibleProgram, visibleProgramIds } from '../programs/program-access.js';
import { builder } from '../schema/builder.js';
import { type AttributeFilter, filterKey, implies, normalizeFilter, parseFilterKey } from '../scope/filter.js';
import { AttributeFilterInput, AttributeFilterRef } from '../scope/filter.schema.js';
import { checkedScope, declaresDimension } from '../scope/scope.js';
import { badInput, notFound } from '../schema/errors.js';
import {
  ALERT_CAUSES,
  alertById,
  groupValueOf,
  targetIdOf,
  historyOf,
  listAlerts,
  listRules,
  liveRuleById,
  openAlerts,
  rulesByIds,
  insertRule,
  updateRule,
  type Alert,
  type AlertHistoryEntry,
  type AlertRule,
} from './alerts.repository.js';
import { BOOTSTRAP_ACTOR } from './alerts.service.js';
import { ALERT_STATES, COMPARATORS, isHealthySide, SEVERITIES } from './evaluate.js';

export const ComparatorEnum = builder.enumType('Comparator', { values: COMPARATORS });
export const SeverityEnum = builder.enumType('Severity', { values: SEVERITIES });
export const AlertStateEnum = builder.enumType('AlertState', { values: ALERT_STATES });
const AlertCauseEnum = builder.enumType('AlertCause', {
  description: 'Why an alert history entry was written.',
  values: ALERT_CAUSES,
});
const AlertRuleKindEnum = builder.enumType('AlertRuleKind', {
  values: {
    THRESHOLD: { description: 'The KPI over the rolling window against the threshold.' },
    TARGET_AT_RISK: {
      description:
        "For each running target of the rule's KPI: the probability of meeting it against the threshold (0 to 1).",
    },
  },
});

export const AlertRuleRef = builder.objectRef<AlertRule>('AlertRule').implement({
  // An every-program rule is readable by any reader; a program's rule only by those who see the program.
  authScopes: (rule) => (rule.program_id === null ? { read: true } : { program: rule.program_id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    programId: t.exposeID('program_id', {
      nullable: true,
      description: 'Null: the rule applies to every program, each judged on its own.',
    }),
    kpi: t.field({ type: KpiEnum, resolve: (r) => r.kpi }),
    comparator: t.field({ type: ComparatorEnum, resolve: (r) => r.comparator }),
    threshold: t.exposeFloat('threshold'),
    windowDays: t.exposeInt('window_days', { description: 'Ignored by TARGET_AT_RISK rules.' }),
    severity: t.field({ type: SeverityEnum, resolve: (r) => r.severity }),
    kind: t.field({ type: AlertRuleKindEnum, resolve: (r) => r.kind }),
    forMinutes: t.exposeInt('for_minutes', {
      description: 'How long the condition must hold before FIRING; PENDING meanwhile. 0: fires at once.',
    }),
    recoveryThreshold: t.exposeFloat('recovery_threshold', {
      nullable: true,
      description: 'A FIRING alert resolves only once the KPI no longer passes this (hysteresis). Null: the threshold.',
    }),
    enabled: t.exposeBoolean('enabled'),
    filter: t.field({
      type: [AttributeFilterRef],
      description: 'Only events matching it are judged (empty: all).',
      resolve: (r) => parseFilterKey(r.filter),
    }),
    groupBy: t.exposeString('group_by', {
      nullable: true,
      description: 'A dimension: the rule is judged for each of its values on its own. Null: not grouped.',
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (r) => r.updated_at }),
  }),
});

const AlertHistoryEntryRef = builder.objectRef<AlertHistoryEntry>('AlertHistoryEntry').implement({
  description: 'One change of an alert: a transition, or its acknowledgement.',
  fields: (t) => ({
    state: t.field({ type: AlertStateEnum, resolve: (h) => h.state }),
    value: t.exposeFloat('value', { description: "The KPI's value when the entry was written." }),
    threshold: t.exposeFloat('threshold'),
    at: t.field({ type: 'DateTime', resolve: (h) => h.at }),
    cause: t.field({ type: AlertCauseEnum, resolve: (h) => h.cause }),
    actor: t.exposeString('actor', {
      nullable: true,
      description: `The API key id that acknowledged, or "${BOOTSTRAP_ACTOR}".`,
    }),
  }),
});

export const AlertRef = builder.objectRef<Alert>('Alert').implement({
  authScopes: (alert) => ({ program: alert.program_id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    rule: t.loadable({
      type: AlertRuleRef,
      // Uncached: a subscription's context lives on, and must show a rule as it is now.
      loaderOptions: { cache: false },
      load: async (ids: string[], ctx: Context) => {
        const rules = new Map((await rulesByIds(ctx.services.db, ids)).map((r) => [r.id, r]));
        return ids.map((id) => rules.get(id) ?? new Error(`rule ${id} is missing`));
      },
      resolve: (alert) => alert.rule_id,
    }),
    programId: t.exposeID('program_id'),
    groupValue: t.string({
      nullable: true,
      description: "The value of the rule's groupBy dimension this alert is about; null for an ungrouped rule.",
      resolve: (a) => groupValueOf(a),
    }),
    targetId: t.id({
      nullable: true,
      description: 'The target a TARGET_AT_RISK alert is about (it may since have been deleted); null otherwise.',
      resolve: (a) => targetIdOf(a),
    }),
    state: t.field({ type: AlertStateEnum, resolve: (a) => a.state }),
    value: t.exposeFloat('value', { description: "The KPI's value at the last transition." }),
    threshold: t.exposeFloat('threshold'),
    startedAt: t.field({ type: 'DateTime', resolve: (a) => a.started_at }),
    firedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.fired_at }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.resolved_at }),
    acknowledgedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.acknowledged_at }),
    acknowledgedBy: t.exposeString('acknowledged_by', {
      nullable: true,
      description: `The id of the API key that acknowledged the alert, or "${BOOTSTRAP_ACTOR}" for the bootstrap key.`,
    }),
    history: t.loadableGroup({
      type: AlertHistoryEntryRef,
      description: 'Every transition and acknowledgement, oldest first.',
      load: (ids: string[], ctx: Context) => historyOf(ctx.services.db, ids),
      group: (entry) => entry.alert_id,
      resolve: (alert) => alert.id,
    }),
  }),
});

// ---- rule input

const RULE_LIMITS = { windowDays: [1, 3650], forMinutes: [0, 10_080] } as const;

const CreateAlertRuleInput = builder.inputType('CreateAlertRuleInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    programId: t.id({ required: false }),
    kpi: t.field({ type: KpiEnum, required: true }),
    comparator: t.field({ type: ComparatorEnum, required: true }),
    threshold: t.float({ required: true }),
    windowDays: t.int({ required: false, defaultValue: 30 }),
    severity: t.field({ type: SeverityEnum, required: false, defaultValue: 'WARNING' }),
    forMinutes: t.int({ required: false, defaultValue: 0, description: 'Pending period, 0 to 10080 minutes.' }),
    recoveryThreshold: t.float({
      required: false,
      description: 'Hysteresis: on the healthy side of threshold, or null.',
    }),
    enabled: t.boolean({ required: false, defaultValue: true }),
    filter: t.field({ type: [AttributeFilterInput], required: false }),
    groupBy: t.string({ required: false }),
    kind: t.field({
      type: AlertRuleKindEnum,
      required: false,
      defaultValue: 'THRESHOLD',
      description: 'TARGET_AT_RISK: threshold (and recoveryThreshold) are probabilities 0 to 1; windowDays is ignored.',
    }),
  }),
});

const UpdateAlertRuleInput = builder.inputType('UpdateAlertRuleInput', {
  description: 'Fields left out keep their value; recoveryThreshold: null removes it. A rule keeps its program.',
  fields: (t) => ({
    name: t.string({ required: false }),
    kpi: t.field({ type: KpiEnum, required: false }),
    comparator: t.field({ type: ComparatorEnum, required: false }),
    threshold: t.float({ required: false }),
    windowDays: t.int({ required: false }),
    severity: t.field({ type: SeverityEnum, required: false }),
    forMinutes: t.int({ required: false }),
    recoveryThreshold: t.float({ required: false }),
    enabled: t.boolean({ required: false }),
  }),
});

type RuleFields = Pick<
  AlertRule,
  | 'name'
  | 'kpi'
  | 'comparator'
  | 'threshold'
  | 'window_days'
  | 'severity'
  | 'for_minutes'
  | 'recovery_threshold'
  | 'kind'
>;

/** One rule set for create and update: the whole rule as it would be stored. */
function checkRule(rule: RuleFields): RuleFields {
  const name = rule.name.trim();
  if (name.length < 1 || name.length > 200) throw badInput('name', 'must be 1 to 200 characters');
  if (!Number.isFinite(rule.threshold)) throw badInput('threshold', 'must be a finite number');
  const probability = rule.kind === 'TARGET_AT_RISK';
  if (probability && (rule.threshold < 0 || rule.threshold > 1))
    throw badInput('threshold', 'must be a probability between 0 and 1 for a TARGET_AT_RISK rule');
  if (probability && rule.recovery_threshold !== null && (rule.recovery_threshold < 0 || rule.recovery_threshold > 1))
    throw badInput('recoveryThreshold', 'must be a probability between 0 and 1 for a TARGET_AT_RISK rule');
  const [minDays, maxDays] = RULE_LIMITS.windowDays;
  if (!Number.isInteger(rule.window_days) || rule.window_days < minDays || rule.window_days > maxDays) {
    throw badInput('windowDays', `must be an integer between ${minDays} and ${maxDays}`);
  }
  const [minFor, maxFor] = RULE_LIMITS.forMinutes;
  if (!Number.isInteger(rule.for_minutes) || rule.for_minutes < minFor || rule.for_minutes > maxFor) {
    throw badInput('forMinutes', `must be an integer between ${minFor} and ${maxFor}`);
  }
  if (rule.recovery_threshold !== null) {
    if (!Number.isFinite(rule.recovery_threshold)) throw badInput('recoveryThreshold', 'must be a finite number');
    if (!isHealthySide(rule.comparator, rule.threshold, rule.recovery_threshold)) {
      const side = rule.comparator === 'GT' || rule.comparator === 'GTE' ? 'at most' : 'at least';
      throw badInput(
        'recoveryThreshold',
        `must be ${side} the threshold (${rule.threshold}) for comparator ${rule.comparator}`,
      );
    }
  }
  return { ...rule, name };
}

/** A rule or webhook for a program names an existing one. */
export const noSuchProgram = (programId: string) =>
  badInput('programId', `must name an existing program (no program "${programId}")`);

/** A list's `limit` argument: 1 to 1000, 100 by default. */
export function checkLimit(limit: number | null | undefined): number {
  const value = limit ?? 100;
  if (!Number.isInteger(value) || value < 1 || value > 1000) throw badInput('limit', 'must be between 1 and 1000');
  return value;
}

/**
 * A live rule the caller may manage: NOT_FOUND unless it sees the rule; an every-program rule
 * (seen by all) is managed only by a key for every program.
 */
async function manageableRule(ctx: Context, id: string): Promise<AlertRule> {
  const rule = await liveRuleById(ctx.services.db, id);
  return visibleOwned(ctx, 'alert rule', id, rule, (found) => found.program_id, { manage: true });
}

/** The programs a read covers: the one asked for (checked), or every program the caller may see (null: all). */
const readScope = (ctx: Context, programId: string | null | undefined) => visibleProgramIds(ctx, programId ?? null);

// ---- queries

builder.queryFields((t) => ({
  alertRules: t.field({
    type: [AlertRuleRef],
    description:
      'Live rules that apply to the program (its own and every-program ones), or to any program the caller may see.',
    args: { programId: t.arg.id({ required: false }) },
    authScopes: { read: true },
    resolve: async (_, args, ctx) =>
      listRules(ctx.services.db, await readScope(ctx, args.programId == null ? null : String(args.programId))),
  }),
  alerts: t.field({
    type: [AlertRef],
    description: 'Alerts of the program, or of every program the caller may see, newest first.',
    args: {
      programId: t.arg.id({ required: false }),
      states: t.arg({ type: [AlertStateEnum], required: false }),
      ruleId: t.arg.id({ required: false }),
      limit: t.arg.int({ required: false, defaultValue: 100, description: '1 to 1000.' }),
    },
    authScopes: { read: true },
    resolve: async (_, args, ctx) => {
      const limit = checkLimit(args.limit);
      return listAlerts(ctx.services.db, {
        programIds: await readScope(ctx, args.programId == null ? null : String(args.programId)),
        states: args.states ?? null,
        ruleIds: args.ruleId == null ? null : [String(args.ruleId)],
        limit,
      });
    },
  }),
  alert: t.field({
    type: AlertRef,
    nullable: true,
    description: 'One alert with its history; null when it does not exist or the caller may not see it.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { read: true },
    resolve: async (_, args, ctx) => {
      const alert = await alertById(ctx.services.db, String(args.id));
      return alert && canSeeOwned(ctx, alert.program_id) ? alert : null;
    },
  }),
}));

builder.objectField(DashboardRef, 'activeAlerts', (t) =>
  t.field({
    type: [AlertRef],
    description:
      "PENDING and FIRING alerts of the dashboard's programs. On a filtered dashboard, only the alerts about events within its filter: those of rules whose filter (with the alert's groupValue, for a groupBy rule) allows only values the dashboard's filter allows, for every key it names.",
    // The dashboard's programs are already narrowed to what the caller may see.
    resolve: async (dashboard, _, ctx) => {
      const alerts = await openAlerts(ctx.services.db, { programIds: dashboard.scope.programs.map((p) => p.id) });
      const { filter } = dashboard.scope;
      if (filter.length === 0) return alerts;
      const rules = new Map(
        (await rulesByIds(ctx.services.db, [...new Set(alerts.map((a) => a.rule_id))])).map((r) => [r.id, r]),
      );
      return alerts.filter((alert) => {
        const rule = rules.get(alert.rule_id);
        return rule !== undefined && implies(alertFilter(rule, alert), filter);
      });
    },
  }),
);

/** The events an alert is about: its rule's filter, narrowed to its group value for a groupBy rule. */
function alertFilter(rule: AlertRule, alert: Alert): AttributeFilter[] {
  const filter = parseFilterKey(rule.filter);
  const value = groupValueOf(alert);
  if (rule.group_by === null || value === null) return filter;
  return normalizeFilter([...filter, { key: rule.group_by, values: [value] }]);
}

// ---- mutations

builder.mutationFields((t) => ({
  createAlertRule: t.field({
    type: AlertRuleRef,
    args: { input: t.arg({ type: CreateAlertRuleInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      const programId = input.programId == null ? null : String(input.programId);
      assertManages(ctx.caller, programId);
      if (programId !== null) await visibleProgram(ctx, programId, { missing: noSuchProgram });
      const fields = checkRule({
        name: input.name,
        kpi: input.kpi as KpiKey,
        comparator: input.comparator,
        threshold: input.threshold,
        window_days: input.windowDays ?? 30,
        severity: input.severity ?? 'WARNING',
        for_minutes: input.forMinutes ?? 0,
        recovery_threshold: input.recoveryThreshold ?? null,
        kind: input.kind ?? 'THRESHOLD',
      });
      // The rule's scope: its program (or every program) and filter, checked like any other (scope/scope.ts).
      const scope = await checkedScope(ctx, { programId, filter: input.filter }, 'filter');
      const groupBy = input.groupBy ?? null;
      if (groupBy !== null && fields.kind === 'TARGET_AT_RISK')
        throw badInput('groupBy', 'must be left out of a TARGET_AT_RISK rule (it is judged per target)');
      if (groupBy !== null && (groupBy === 'program' || !(await declaresDimension(ctx, scope, groupBy)))) {
        const where = programId !== null ? `program "${programId}"` : 'any program';
        throw badInput('groupBy', `must be a dimension of ${where} (got "${groupBy}")`);
      }
      const now = ctx.services.now();
      const rule = await insertRule(ctx.services.db, {
        ...fields,
        id: randomUUID(),
        program_id: programId,
        filter: filterKey(scope.filter),
        group_by: groupBy,
        enabled: input.enabled ?? true,
        created_at: now,
        updated_at: now,
      });
      ctx.services.alerts.engine.request(programId === null ? null : [programId]);
      return rule;
    },
  }),
  updateAlertRule: t.field({
    type: AlertRuleRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateAlertRuleInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id, input }, ctx) => {
      const rule = await manageableRule(ctx, String(id));
      const fields = checkRule({
        name: input.name ?? rule.name,
        kpi: (input.kpi as KpiKey | null | undefined) ?? rule.kpi,
        comparator: input.comparator ?? rule.comparator,
        threshold: input.threshold ?? rule.threshold,
        window_days: input.windowDays ?? rule.window_days,
        severity: input.severity ?? rule.severity,
        for_minutes: input.forMinutes ?? rule.for_minutes,
        recovery_threshold: input.recoveryThreshold === undefined ? rule.recovery_threshold : input.recoveryThreshold,
        kind: rule.kind,
      });
      const updated = await updateRule(ctx.services.db, rule.id, { ...fields, updated_at: ctx.services.now() });
      if (!updated) throw notFound('alert rule', rule.id);
      if (input.enabled != null && input.enabled !== updated.enabled) return setEnabled(ctx, updated, input.enabled);
      // Open alerts are judged again under the new terms at once.
      ctx.services.alerts.engine.request(updated.program_id === null ? null : [updated.program_id]);
      return updated;
    },
  }),
  enableAlertRule: t.field({
    type: AlertRuleRef,
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => setEnabled(ctx, await manageableRule(ctx, String(id)), true),
  }),
  disableAlertRule: t.field({
    type: AlertRuleRef,
    description: 'Stops judging the rule; its open alerts resolve (cause RULE_DISABLED).',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => setEnabled(ctx, await manageableRule(ctx, String(id)), false),
  }),
  deleteAlertRule: t.field({
    type: 'Boolean',
    description:
      'Deletes the rule (the default rule too); its open alerts resolve (cause RULE_DELETED) and keep their history.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      const rule = await manageableRule(ctx, String(id));
      if (!(await ctx.services.alerts.writer.retireRule(rule, 'RULE_DELETED', ctx.services.now())))
        throw notFound('alert rule', rule.id);
      return true;
    },
  }),
  acknowledgeAlert: t.field({
    type: AlertRef,
    description: 'Records who (the key) and when; acknowledging again changes nothing.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      const existing = visibleOwned(
        ctx,
        'alert',
        String(id),
        await alertById(ctx.services.db, String(id)),
        (found) => found.program_id,
      );
      const alert = await ctx.services.alerts.writer.acknowledge(
        existing.id,
        ctx.caller.keyId ?? BOOTSTRAP_ACTOR,
        ctx.services.now(),
      );
      if (!alert) throw notFound('alert', existing.id);
      return alert;
    },
  }),
}));

/** Enabling asks for a judgement at once; disabling resolves the rule's open alerts in the same transaction. */
async function setEnabled(ctx: Context, rule: AlertRule, enabled: boolean): Promise<AlertRule> {
  const now = ctx.services.now();
  if (enabled) {
    const updated = await updateRule(ctx.services.db, rule.id, { enabled: true, updated_at: now });
    if (!updated) throw notFound('alert rule', rule.id);
    ctx.services.alerts.engine.request(updated.program_id === null ? null : [updated.program_id]);
    return updated;
  }
  if (!(await ctx.services.alerts.writer.retireRule(rule, 'RULE_DISABLED', now))) throw notFound('alert rule', rule.id);
  return (await liveRuleById(ctx.services.db, rule.id))!;
}

// ---- live

builder.subscriptionFields((t) => ({
  alertChanged: t.field({
    type: AlertRef,
    description: 'Emits an alert on each of its transitions and on acknowledgement.',
    args: { programId: t.arg.id({ required: false }) },
    authScopes: { read: true },
    subscribe: async (_, args, ctx) => {
      const programId = args.programId == null ? null : String(args.programId);
      await readScope(ctx, programId);
      return pipe(
        ctx.services.pubsub.subscribe('alertChanged'),
        // What the caller may see, checked per alert: no other program's alert ever leaves here.
        filter(
          (alert: Alert) =>
            canSeeOwned(ctx, alert.program_id) && (programId === null || alert.program_id === programId),
        ),
      );
    },
    resolve: (alert) => alert,
  }),
}));
