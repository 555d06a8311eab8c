/**
 * The alert path: a change notice (debounced per program) or the timer → each enabled rule's KPI
 * over [now − windowDays, now) per program → evaluate() → transitions written by AlertWriter.
 * Evaluations run one at a time in this process; across processes the database's unique index
 * and the alert's version keep writers from opening or moving one alert twice.
 */
import type { Db } from '../db/types.js';
import type { Logger } from '../metrics/logger.js';
import { aggregateFiltered, breakdown } from '../kpis/filtered.js';
import { aggregateSpans } from '../kpis/kpi.service.js';
import { dimensionKey, valuesOf } from '../programs/dimensions.repository.js';
import { filterKey, parseFilterKey } from '../scope/filter.js';
import { kpi } from '../kpis/registry.js';
import { DAY } from '../kpis/time.js';
import { listPrograms, programsByIds, type Program } from '../programs/programs.repository.js';
import type { EventBus } from '../realtime/pubsub.js';
import {
  listRules,
  openAlerts,
  targetGroupKey,
  type Alert,
  type AlertCause,
  type AlertRule,
} from './alerts.repository.js';
import { runningTargets } from '../targets/targets.repository.js';
import { targetWarning, type TargetWarning } from './target-warning.js';
import { StaleAlertError, type AlertWriter } from './alerts.service.js';
import { evaluate, type Transition } from './evaluate.js';
import { groupBy } from '../util/group-by.js';

export interface EngineOptions {
  /** How often every rule is judged as windows slide. */
  intervalMs: number;
  /** How long notices gather before the programs they name are judged. */
  debounceMs: number;
}

export class AlertEngine {
  /** Programs named by notices since the last evaluation; 'all' once anything asked for every program. */
  private requested: Set<string> | 'all' = new Set();
  private debounce: NodeJS.Timeout | null = null;
  private interval: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private changes: AsyncIterator<unknown> | null = null;
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    readonly writer: AlertWriter,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly options: EngineOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const changes = this.bus.subscribe('changes');
    this.changes = changes;
    void (async () => {
      for await (const notice of changes) this.request([notice.programId]);
    })();
    this.interval = setInterval(() => this.request(null), this.options.intervalMs);
    this.interval.unref();
    this.request(null);
  }

  async stop(): Promise<void> {
    await this.changes?.return?.();
    if (this.interval) clearInterval(this.interval);
    // Notices already heard are judged now, not dropped: on shutdown their alerts and
    // notifications still reach the database (and the outbox) before the process exits.
    if (this.debounce) this.judgeRequested();
    this.running = false;
    this.interval = null;
    await this.chain;
  }

  /** Asks for an evaluation of these programs (null: every program) soon. */
  request(programIds: readonly string[] | null): void {
    if (!this.running) return;
    if (programIds === null) this.requested = 'all';
    else if (this.requested !== 'all') for (const id of programIds) this.requested.add(id);
    // A fixed window from the first notice, not one that restarts on each: a steady stream of
    // records still gets judged every debounceMs.
    this.debounce ??= setTimeout(() => this.judgeRequested(), this.options.debounceMs);
  }

  private judgeRequested(): void {
    clearTimeout(this.debounce ?? undefined);
    this.debounce = null;
    const programs = this.requested === 'all' ? null : [...this.requested];
    this.requested = new Set();
    this.judge(programs).catch((error) => {
      if (this.running) this.log.error({ err: error }, 'alert evaluation failed');
    });
  }

  /** Judges these programs (null: all) now, after any evaluation under way: evaluations never overlap. */
  judge(programIds: readonly string[] | null): Promise<void> {
    const run = this.chain.then(() => this.evaluateNow(programIds));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Resolves once every requested evaluation has run (tests wait on it instead of sleeping). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.debounce) {
        await new Promise((resolve) => setTimeout(resolve, this.options.debounceMs));
        continue;
      }
      const current = this.chain;
      await current;
      if (current === this.chain && !this.debounce) return;
    }
  }

  /** Judges every enabled rule for these programs (null: all) against the KPIs as of now. */
  private async evaluateNow(programIds: readonly string[] | null): Promise<void> {
    const now = this.now();
    const rules = await listRules(this.db, programIds, { enabledOnly: true });
    if (rules.length === 0) return;
    const programs = programIds === null ? await listPrograms(this.db) : await programsByIds(this.db, programIds);
    const open = new Map<string, Alert>();
    for (const alert of await openAlerts(this.db, { programIds, ruleIds: rules.map((r) => r.id) })) {
      open.set(openKey(alert.rule_id, alert.program_id, alert.group_key), alert);
    }

    // Plain rules with the same window share one read of the rollups for all their programs;
    // a filtered or grouped rule reads its own scope (kpis/filtered.ts).
    const plain = rules.filter((r) => r.kind === 'THRESHOLD' && r.filter === '' && r.group_by === null);
    for (const [windowDays, group] of groupBy(plain, (r) => r.window_days)) {
      const judged = programs.filter((p) => group.some((r) => appliesTo(r, p)));
      if (judged.length === 0) continue;
      const aggregates = await aggregateSpans(this.db, judged, [{ start: now - windowDays * DAY, end: now }], now);
      for (const rule of group) {
        for (const program of judged.filter((p) => appliesTo(rule, p)))
          await this.judgeOne(rule, program.id, '', kpi(rule.kpi).compute(aggregates.get(program.id)![0]), open, now);
      }
    }
    for (const rule of rules.filter((r) => r.kind === 'TARGET_AT_RISK'))
      await this.judgeTargets(rule, programs, open, now);
    for (const rule of rules.filter((r) => r.kind === 'THRESHOLD' && !plain.includes(r))) {
      const judged = programs.filter((p) => appliesTo(rule, p));
      if (judged.length === 0) continue;
      const window = [{ start: now - rule.window_days * DAY, end: now }];
      const filter = parseFilterKey(rule.filter);
      if (rule.group_by === null) {
        const aggregates = await aggregateFiltered(this.db, judged, filter, window, now);
        for (const program of judged)
          await this.judgeOne(rule, program.id, '', kpi(rule.kpi).compute(aggregates.get(program.id)![0]), open, now);
        continue;
      }
      const values = await valuesOf(
        this.db,
        judged.map((p) => p.id),
      );
      for (const program of judged) {
        const taken = values.get(dimensionKey(program.id, rule.group_by)) ?? [];
        if (taken.length === 0) continue;
        // Each value on its own; events without the attribute belong to no group.
        const rows = await breakdown(this.db, [program], filter, rule.group_by, () => taken, window, now);
        for (const row of rows) {
          if (row.value === null) continue;
          await this.judgeOne(rule, program.id, row.value, kpi(rule.kpi).compute(row.aggregates[0]), open, now);
        }
      }
    }
  }

  /**
   * A TARGET_AT_RISK rule: each running target of its KPI in its scope (its program or every program;
   * with a filter, the targets set for that filter) is judged on its meetsTargetProbability, as one
   * alert per target. An open alert whose target no longer runs resolves (TARGET_ENDED).
   */
  private async judgeTargets(rule: AlertRule, programs: Program[], open: Map<string, Alert>, now: number) {
    const judged = programs.filter((p) => appliesTo(rule, p));
    const targets = (
      await runningTargets(
        this.db,
        judged.map((p) => p.id),
        rule.kpi,
        now,
      )
    ).filter((t) => rule.filter === '' || filterKey(t.filter) === rule.filter);
    for (const target of targets) {
      const program = judged.find((p) => p.id === target.program_id)!;
      const warning = await targetWarning(this.db, program, target, now);
      await this.judgeOne(rule, program.id, targetGroupKey(target.id), warning.probability, open, now, warning);
    }
    const running = new Set(targets.map((t) => targetGroupKey(t.id)));
    for (const alert of open.values()) {
      if (alert.rule_id !== rule.id || running.has(alert.group_key) || !judged.some((p) => p.id === alert.program_id))
        continue;
      const ended: Transition = { to: 'RESOLVED', value: alert.value, at: now };
      await this.write(rule, alert.program_id, alert, ended, 'TARGET_ENDED', alert.group_key, null);
    }
  }

  /** One rule, program and group value: evaluate, and write the transition if there is one. */
  private async judgeOne(
    rule: AlertRule,
    programId: string,
    groupKey: string,
    value: number | null,
    open: Map<string, Alert>,
    now: number,
    warning: TargetWarning | null = null,
  ): Promise<void> {
    const current = open.get(openKey(rule.id, programId, groupKey)) ?? null;
    const condition = {
      comparator: rule.comparator,
      threshold: rule.threshold,
      recoveryThreshold: rule.recovery_threshold,
      forMinutes: rule.for_minutes,
    };
    const next = evaluate(
      condition,
      value,
      current && { state: current.state as 'PENDING' | 'FIRING', startedAt: current.started_at },
      now,
    );
    if (!next) return;
    await this.write(rule, programId, current, next, 'EVALUATION', groupKey, warning);
  }

  private async write(
    rule: AlertRule,
    programId: string,
    current: Alert | null,
    next: Transition,
    cause: AlertCause,
    groupKey: string,
    warning: TargetWarning | null,
  ): Promise<void> {
    try {
      await this.writer.transition(rule, programId, current, next, cause, groupKey, warning);
    } catch (error) {
      // Another writer (another instance, or a rule being disabled) moved or opened this alert
      // first: the version check or the unique index refused ours, and the next evaluation
      // starts from theirs. Anything else is a fault worth a log line.
      if (!(error instanceof StaleAlertError) && !(await this.openedMeanwhile(rule, programId, current))) {
        this.log.error({ err: error, rule: rule.id, program: programId }, 'alert transition failed');
      }
    }
  }

  private async openedMeanwhile(rule: AlertRule, programId: string, current: Alert | null): Promise<boolean> {
    if (current !== null) return false;
    return (await openAlerts(this.db, { programIds: [programId], ruleIds: [rule.id] })).length > 0;
  }
}

const openKey = (ruleId: string, programId: string, groupKey: string) => `${ruleId}|${programId}|${groupKey}`;

const appliesTo = (rule: AlertRule, program: Program) => rule.program_id === null || rule.program_id === program.id;
