/** The active alerts: PENDING and FIRING, kept current by dashboard pushes and alertChanged; admins acknowledge. */
import type { AlertSummaryFragment } from '../../src/client/index.js';
import { formatDateTime, formatValue, type KpiInfo } from './format.js';

type Alert = AlertSummaryFragment;

const COMPARATORS = { GT: '>', GTE: '≥', LT: '<', LTE: '≤' } as const;

export interface AlertsPanel {
  /** Replaces the list with a dashboard's activeAlerts. */
  replace(alerts: readonly Alert[]): void;
  /** Applies one transition or acknowledgement. */
  apply(alert: Alert): void;
}

export function createAlertsPanel(
  list: HTMLElement,
  empty: HTMLElement,
  kpis: KpiInfo[],
  options: {
    canAcknowledge: boolean;
    inScope: (alert: Alert) => boolean;
    acknowledge: (id: string) => Promise<void>;
    programName: (id: string) => string;
  },
): AlertsPanel {
  const open = new Map<string, Alert>();

  function render() {
    list.replaceChildren(
      ...[...open.values()]
        .sort((a, b) => severityRank(b) - severityRank(a) || a.startedAt.localeCompare(b.startedAt))
        .map((alert) => item(alert)),
    );
    empty.hidden = open.size > 0;
  }

  function item(alert: Alert): HTMLElement {
    const kpi = kpis.find((k) => k.key === alert.rule.kpi);
    const li = document.createElement('li');
    li.className = `alert severity-${alert.rule.severity.toLowerCase()}`;
    li.dataset.alertId = alert.id;
    const title = document.createElement('p');
    title.className = 'alert-title';
    const severity = document.createElement('strong');
    severity.textContent = `${alert.rule.severity} · ${alert.state}`;
    title.append(severity, ` ${options.programName(alert.programId)}: ${alert.rule.name}`);
    const detail = document.createElement('p');
    detail.textContent = `${kpi?.label ?? alert.rule.kpi} over ${alert.rule.windowDays} days is ${kpi ? formatValue(kpi, alert.value) : alert.value} (rule: ${COMPARATORS[alert.rule.comparator]} ${kpi ? formatValue(kpi, alert.threshold) : alert.threshold}).`;
    const meta = document.createElement('p');
    meta.className = 'meta';
    const since = formatDateTime(Date.parse(alert.firedAt ?? alert.startedAt));
    meta.textContent = `Since ${since}${alert.acknowledgedAt ? ` · acknowledged ${formatDateTime(Date.parse(alert.acknowledgedAt))}` : ''}`;
    li.append(title, detail, meta);
    if (options.canAcknowledge && !alert.acknowledgedAt) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Acknowledge';
      button.setAttribute(
        'aria-label',
        `Acknowledge alert: ${alert.rule.name}, ${options.programName(alert.programId)}`,
      );
      button.addEventListener('click', async () => {
        button.disabled = true;
        button.textContent = 'Acknowledging…';
        try {
          await options.acknowledge(alert.id);
        } catch {
          button.disabled = false;
          button.textContent = 'Acknowledge (failed, try again)';
        }
      });
      li.append(button);
    }
    return li;
  }

  return {
    replace(alerts) {
      open.clear();
      for (const alert of alerts) open.set(alert.id, alert);
      render();
    },
    apply(alert) {
      if (alert.state === 'RESOLVED' || !options.inScope(alert)) open.delete(alert.id);
      else open.set(alert.id, alert);
      render();
    },
  };
}

const severityRank = (alert: Alert) => ({ INFO: 0, WARNING: 1, CRITICAL: 2 })[alert.rule.severity];
