/**
 * The alert state machine, as a pure function: (rule, KPI value, open alert, now) → next state.
 * No clock, no database: tests drive it with a table of values over time (see test/alerts-evaluate.test.ts).
 *
 *   (none) ──breach──▶ PENDING ──held forMinutes──▶ FIRING ──recovered──▶ RESOLVED
 *      └──breach, forMinutes 0──────────────────────▲          PENDING ──no breach──▶ RESOLVED
 */
import { MINUTE } from '../kpis/time.js';

export type Comparator = 'GT' | 'GTE' | 'LT' | 'LTE';
export type AlertState = 'PENDING' | 'FIRING' | 'RESOLVED';
export type Severity = 'INFO' | 'WARNING' | 'CRITICAL';

export const COMPARATORS: readonly Comparator[] = ['GT', 'GTE', 'LT', 'LTE'];
export const ALERT_STATES: readonly AlertState[] = ['PENDING', 'FIRING', 'RESOLVED'];
/** Least severe first: a webhook's minimum severity compares by position. */
export const SEVERITIES: readonly Severity[] = ['INFO', 'WARNING', 'CRITICAL'];

export interface RuleCondition {
  comparator: Comparator;
  threshold: number;
  /**
   * Hysteresis: a FIRING alert resolves only once the value no longer passes this threshold
   * (e.g. GT 7 with recovery 6 resolves at 6 or below). Null: the threshold itself.
   */
  recoveryThreshold: number | null;
  /** How long the condition must hold before the alert fires; PENDING meanwhile. */
  forMinutes: number;
}

export interface OpenAlert {
  state: 'PENDING' | 'FIRING';
  startedAt: number;
}

export interface Transition {
  to: AlertState;
  value: number;
  at: number;
}

export function passes(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case 'GT':
      return value > threshold;
    case 'GTE':
      return value >= threshold;
    case 'LT':
      return value < threshold;
    case 'LTE':
      return value <= threshold;
  }
}

/** Whether a recovery threshold lies on the healthy side of the threshold, where hysteresis makes sense. */
export function isHealthySide(comparator: Comparator, threshold: number, recovery: number): boolean {
  return comparator === 'GT' || comparator === 'GTE' ? recovery <= threshold : recovery >= threshold;
}

/** The next state of the rule's alert for one program, or null when nothing changes. */
export function evaluate(
  rule: RuleCondition,
  value: number | null,
  open: OpenAlert | null,
  now: number,
): Transition | null {
  // No data says nothing about the KPI: an open alert stays open, none opens.
  if (value === null || !Number.isFinite(value)) return null;
  const breached = passes(value, rule.comparator, rule.threshold);
  const heldLongEnough = (since: number) => now - since >= rule.forMinutes * MINUTE;

  if (open === null) {
    if (!breached) return null;
    return { to: rule.forMinutes > 0 ? 'PENDING' : 'FIRING', value, at: now };
  }
  if (open.state === 'PENDING') {
    // A pending alert drops as soon as the condition stops holding, like Prometheus's `for`.
    if (!breached) return { to: 'RESOLVED', value, at: now };
    return heldLongEnough(open.startedAt) ? { to: 'FIRING', value, at: now } : null;
  }
  const stillFiring = passes(value, rule.comparator, rule.recoveryThreshold ?? rule.threshold);
  return stillFiring ? null : { to: 'RESOLVED', value, at: now };
}
