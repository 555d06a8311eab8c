/**
 * Writing alert changes: each transition or acknowledgement is stored with its history entry and
 * its outbox notifications in one transaction; only after the commit is it published to
 * `alertChanged` and the delivery worker woken. Every writer of alerts goes through here.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Executor } from '../db/types.js';
import type { EventBus } from '../realtime/pubsub.js';
import { parseFilterKey } from '../scope/filter.js';
import {
  alertById,
  groupValueOf,
  targetIdOf,
  insertAlert,
  insertHistory,
  openAlerts,
  rulesByIds,
  softDeleteRule,
  targetGroupKey,
  updateAlert,
  updateRule,
  type Alert,
  type AlertCause,
  type AlertRule,
} from './alerts.repository.js';
import type { Transition } from './evaluate.js';
import type { Notifier } from './notify.js';
import type { TargetWarning } from './target-warning.js';
import { insertNotifications, webhooksFor, type Notification } from './webhooks.repository.js';

/** Another writer changed the alert between our read and our write; nothing was written. */
export class StaleAlertError extends Error {}

/** Who acknowledged: the stored key's id, or this for the bootstrap ADMIN_API_KEY. */
// One name for the bootstrap key everywhere (alert history, audit log, recorded events).
export { BOOTSTRAP_ACTOR } from '../auth/caller.js';

export class AlertWriter {
  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly notifier: Notifier,
    /** Wall clock for the outbox schedule (the service clock may be pinned in tests). */
    private readonly wallClock: () => number = Date.now,
  ) {}

  /** Stores one transition of the rule's alert for a program, then publishes it. */
  async transition(
    rule: AlertRule,
    programId: string,
    open: Alert | null,
    t: Transition,
    cause: AlertCause = 'EVALUATION',
    /** The groupBy value a new alert is about; '' for an ungrouped rule. */
    groupKey = '',
    /** A TARGET_AT_RISK alert's target, forecast and period to date, for its webhooks. */
    warning: TargetWarning | null = null,
  ): Promise<Alert> {
    const written = await this.db
      .transaction()
      .execute((trx) => this.writeTransition(trx, rule, programId, open, t, cause, groupKey, warning));
    this.published([written]);
    return written.alert;
  }

  /**
   * Records the first acknowledgement (who and when); later ones change nothing. Null when the
   * alert does not exist.
   */
  async acknowledge(alertId: string, actor: string, now: number): Promise<Alert | null> {
    for (let tries = 0; ; tries++) {
      try {
        const result = await this.db.transaction().execute(async (trx) => {
          const alert = await alertById(trx, alertId);
          if (!alert || alert.acknowledged_at !== null) return { alert, changed: false };
          const next: Alert = { ...alert, acknowledged_at: now, acknowledged_by: actor, version: alert.version + 1 };
          if (!(await updateAlert(trx, next, alert.version))) throw new StaleAlertError();
          await insertHistory(trx, { ...historyOf(next, now, 'ACKNOWLEDGED'), actor });
          return { alert: next, changed: true };
        });
        if (result.changed && result.alert) this.bus.publish('alertChanged', result.alert);
        return result.alert;
      } catch (error) {
        // The evaluator moved the alert meanwhile: read it again and acknowledge the new version.
        if (!(error instanceof StaleAlertError) || tries >= 5) throw error;
      }
    }
  }

  /**
   * Deletes (or disables) a rule and resolves its open alerts in the same transaction, so no
   * alert stays open without a rule judging it. False when the rule is not live.
   */
  async retireRule(rule: AlertRule, how: 'RULE_DELETED' | 'RULE_DISABLED', now: number): Promise<boolean> {
    const written = await this.db.transaction().execute(async (trx) => {
      const done =
        how === 'RULE_DELETED'
          ? await softDeleteRule(trx, rule.id, now)
          : (await updateRule(trx, rule.id, { enabled: false, updated_at: now })) !== null;
      if (!done) return null;
      const changes = [];
      for (const open of await openAlerts(trx, { programIds: null, ruleIds: [rule.id] })) {
        changes.push(
          await this.writeTransition(
            trx,
            rule,
            open.program_id,
            open,
            { to: 'RESOLVED', value: open.value, at: now },
            how,
          ),
        );
      }
      return changes;
    });
    if (written === null) return false;
    this.published(written);
    return true;
  }

  /**
   * Deletes a target (`remove`, inside the transaction) and resolves the open TARGET_AT_RISK alerts
   * about it in the same transaction (cause TARGET_DELETED). False when `remove` found nothing.
   */
  async retireTarget(targetId: string, remove: (trx: Executor) => Promise<boolean>, now: number): Promise<boolean> {
    const written = await this.db.transaction().execute(async (trx) => {
      if (!(await remove(trx))) return null;
      const changes = [];
      for (const open of await openAlerts(trx, { programIds: null, groupKeys: [targetGroupKey(targetId)] })) {
        const rule = (await rulesByIds(trx, [open.rule_id]))[0];
        const resolved = { to: 'RESOLVED' as const, value: open.value, at: now };
        changes.push(
          await this.writeTransition(trx, rule, open.program_id, open, resolved, 'TARGET_DELETED', open.group_key),
        );
      }
      return changes;
    });
    if (written === null) return false;
    this.published(written);
    return true;
  }

  private published(written: { alert: Alert; notified: boolean }[]) {
    for (const { alert } of written) this.bus.publish('alertChanged', alert);
    if (written.some((w) => w.notified)) this.notifier.kick();
  }

  private async writeTransition(
    trx: Executor,
    rule: AlertRule,
    programId: string,
    open: Alert | null,
    t: Transition,
    cause: AlertCause,
    groupKey = '',
    warning: TargetWarning | null = null,
  ) {
    let alert: Alert;
    if (open === null) {
      alert = {
        id: randomUUID(),
        rule_id: rule.id,
        program_id: programId,
        state: t.to,
        value: t.value,
        threshold: rule.threshold,
        started_at: t.at,
        fired_at: t.to === 'FIRING' ? t.at : null,
        resolved_at: t.to === 'RESOLVED' ? t.at : null,
        acknowledged_at: null,
        acknowledged_by: null,
        version: 1,
        group_key: groupKey,
      };
      // The unique index on (rule, program, group_key, open_key) refuses a second open alert here.
      await insertAlert(trx, alert);
    } else {
      alert = {
        ...open,
        state: t.to,
        value: t.value,
        threshold: rule.threshold,
        fired_at: t.to === 'FIRING' ? t.at : open.fired_at,
        resolved_at: t.to === 'RESOLVED' ? t.at : null,
        version: open.version + 1,
      };
      if (!(await updateAlert(trx, alert, open.version))) throw new StaleAlertError();
    }
    await insertHistory(trx, historyOf(alert, t.at, cause));
    // Receivers hear of alerts that fire and of fired alerts that end; a pending period that
    // passes without firing is the noise the period exists to absorb (as with Alertmanager).
    const notified = t.to === 'FIRING' || (t.to === 'RESOLVED' && alert.fired_at !== null);
    if (notified) await this.enqueue(trx, rule, alert, t, cause, warning);
    return { alert, notified };
  }

  private async enqueue(
    trx: Executor,
    rule: AlertRule,
    alert: Alert,
    t: Transition,
    cause: AlertCause,
    warning: TargetWarning | null,
  ) {
    const webhooks = await webhooksFor(trx, alert.program_id, rule.severity);
    if (webhooks.length === 0) return;
    const eventId = randomUUID();
    const body = JSON.stringify(notificationBody(eventId, rule, alert, t, cause, warning));
    const now = this.wallClock();
    const rows: Notification[] = webhooks.map((webhook) => ({
      id: randomUUID(),
      event_id: eventId,
      webhook_id: webhook.id,
      alert_id: alert.id,
      body,
      state: 'PENDING',
      attempts: 0,
      next_attempt_at: now,
      leased_until: null,
      last_error: null,
      created_at: now,
      delivered_at: null,
    }));
    await insertNotifications(trx, rows);
  }
}

function historyOf(alert: Alert, at: number, cause: AlertCause) {
  return {
    alert_id: alert.id,
    version: alert.version,
    state: alert.state,
    value: alert.value,
    threshold: alert.threshold,
    at,
    cause,
    actor: null,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The JSON a webhook receives; documented in README.md ("Alerts and notifications"). */
export function notificationBody(
  eventId: string,
  rule: AlertRule,
  alert: Alert,
  t: Transition,
  cause: AlertCause,
  warning: TargetWarning | null = null,
) {
  return {
    eventId,
    type: t.to === 'FIRING' ? 'alert.firing' : 'alert.resolved',
    cause,
    at: iso(t.at),
    alert: {
      id: alert.id,
      programId: alert.program_id,
      groupValue: groupValueOf(alert),
      targetId: targetIdOf(alert),
      state: alert.state,
      value: alert.value,
      threshold: alert.threshold,
      startedAt: iso(alert.started_at),
      firedAt: iso(alert.fired_at),
      resolvedAt: iso(alert.resolved_at),
    },
    rule: {
      id: rule.id,
      name: rule.name,
      kpi: rule.kpi,
      comparator: rule.comparator,
      threshold: rule.threshold,
      windowDays: rule.window_days,
      severity: rule.severity,
      kind: rule.kind,
      filter: parseFilterKey(rule.filter),
      groupBy: rule.group_by,
    },
    // TARGET_AT_RISK: the target, where it stands (previous: the same elapsed span before the period) and its forecast.
    ...(warning && {
      target: {
        id: warning.target.id,
        kpi: warning.target.kpi,
        from: iso(warning.target.starts_at),
        to: iso(warning.target.ends_at),
        value: warning.target.value,
        filter: warning.target.filter,
        actual: warning.actual,
        previous: warning.previous,
        previousFrom: iso(warning.previousPeriod.start),
        previousTo: iso(warning.previousPeriod.end),
        forecast: warning.forecast && {
          value: warning.forecast.value,
          low: warning.forecast.low,
          high: warning.forecast.high,
          meetsTargetProbability: warning.forecast.meetsTargetProbability,
        },
      },
    }),
  };
}
