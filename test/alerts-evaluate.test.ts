/**
 * The evaluator, table-driven in the style of `promtool test rules`: each case is a rule, the KPI
 * values it sees over time (per program), and the transitions expected, nothing more.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, isHealthySide, type OpenAlert, type RuleCondition } from '../src/alerts/evaluate.js';
import { MINUTE } from '../src/kpis/time.js';

/** `[minute, value]`; null is a window without data. */
type Series = [number, number | null][];

interface Case {
  name: string;
  rule: Partial<RuleCondition>;
  /** One series per program; every program is judged on its own, as a rule with programId null is. */
  series: Record<string, Series>;
  /** `"<program> <minute>m <STATE> <value>"`, in order of time then program. */
  expected: string[];
}

const GT7: RuleCondition = { comparator: 'GT', threshold: 7, recoveryThreshold: null, forMinutes: 0 };

const cases: Case[] = [
  {
    name: 'fires at the first value past the threshold',
    rule: {},
    series: {
      HA: [
        [0, 6],
        [1, 7],
        [2, 8.5],
        [3, 9],
      ],
    },
    expected: ['HA 2m FIRING 8.5'],
  },
  {
    name: 'resolves once the value no longer passes (equal is not past GT)',
    rule: {},
    series: {
      HA: [
        [0, 8],
        [1, 9],
        [2, 7],
        [3, 6],
      ],
    },
    expected: ['HA 0m FIRING 8', 'HA 2m RESOLVED 7'],
  },
  {
    name: 'fires again after a resolution, as a new alert',
    rule: {},
    series: {
      HA: [
        [0, 8],
        [1, 5],
        [2, 8],
      ],
    },
    expected: ['HA 0m FIRING 8', 'HA 1m RESOLVED 5', 'HA 2m FIRING 8'],
  },
  {
    name: 'stays PENDING for forMinutes, then fires',
    rule: { forMinutes: 5 },
    series: {
      HA: [
        [0, 8],
        [2, 8.2],
        [4, 9],
        [5, 9.1],
        [6, 9.2],
      ],
    },
    expected: ['HA 0m PENDING 8', 'HA 5m FIRING 9.1'],
  },
  {
    name: 'a PENDING alert that never fires resolves when the condition stops holding',
    rule: { forMinutes: 5 },
    series: {
      HA: [
        [0, 8],
        [2, 8],
        [4, 6],
        [6, 6],
        [9, 6.5],
      ],
    },
    expected: ['HA 0m PENDING 8', 'HA 4m RESOLVED 6'],
  },
  {
    name: 'hysteresis: a firing alert holds until the recovery threshold, then fires again only past the threshold',
    rule: { recoveryThreshold: 6 },
    series: {
      HA: [
        [0, 8],
        [1, 6.5],
        [2, 7.5],
        [3, 6.9],
        [4, 6],
        [5, 6.8],
        [6, 7.2],
      ],
    },
    expected: ['HA 0m FIRING 8', 'HA 4m RESOLVED 6', 'HA 6m FIRING 7.2'],
  },
  {
    name: 'without hysteresis the same values flap',
    rule: {},
    series: {
      HA: [
        [0, 8],
        [1, 6.5],
        [2, 7.5],
        [3, 6.9],
        [4, 6],
        [5, 6.8],
        [6, 7.2],
      ],
    },
    expected: ['HA 0m FIRING 8', 'HA 1m RESOLVED 6.5', 'HA 2m FIRING 7.5', 'HA 3m RESOLVED 6.9', 'HA 6m FIRING 7.2'],
  },
  {
    name: 'no data changes nothing: no alert opens, an open one stays open',
    rule: {},
    series: {
      HA: [
        [0, null],
        [1, 8],
        [2, null],
        [30, null],
        [31, 5],
      ],
    },
    expected: ['HA 1m FIRING 8', 'HA 31m RESOLVED 5'],
  },
  {
    name: 'no data neither advances nor drops a pending period',
    rule: { forMinutes: 5 },
    series: {
      HA: [
        [0, 8],
        [3, null],
        [6, 8],
      ],
    },
    expected: ['HA 0m PENDING 8', 'HA 6m FIRING 8'],
  },
  {
    name: 'LT with hysteresis above: satisfaction below 3.5 fires, resolves at 4 or more',
    rule: { comparator: 'LT', threshold: 3.5, recoveryThreshold: 4 },
    series: {
      HA: [
        [0, 4.2],
        [1, 3.4],
        [2, 3.8],
        [3, 4],
      ],
    },
    expected: ['HA 1m FIRING 3.4', 'HA 3m RESOLVED 4'],
  },
  {
    name: 'GTE and LTE include the threshold itself',
    rule: { comparator: 'GTE' },
    series: {
      HA: [
        [0, 7],
        [1, 6.99],
      ],
    },
    expected: ['HA 0m FIRING 7', 'HA 1m RESOLVED 6.99'],
  },
  {
    name: 'a rule for every program judges each program on its own',
    rule: { forMinutes: 2 },
    series: {
      HA: [
        [0, 8],
        [1, 8],
        [2, 8],
        [3, 5],
      ],
      HB: [
        [0, 5],
        [1, 9],
        [2, 9],
        [3, 9],
      ],
      HC: [
        [0, null],
        [1, 7],
        [2, null],
        [3, 7],
      ],
    },
    expected: ['HA 0m PENDING 8', 'HB 1m PENDING 9', 'HA 2m FIRING 8', 'HA 3m RESOLVED 5', 'HB 3m FIRING 9'],
  },
];

/** Runs each program's series through evaluate(), carrying the open alert along, and lists the transitions. */
function replay(rule: RuleCondition, series: Record<string, Series>): string[] {
  const samples = Object.entries(series)
    .flatMap(([program, points]) => points.map(([minute, value]) => ({ program, minute, value })))
    .sort((a, b) => a.minute - b.minute || a.program.localeCompare(b.program));
  const open = new Map<string, OpenAlert>();
  const seen: string[] = [];
  for (const { program, minute, value } of samples) {
    const next = evaluate(rule, value, open.get(program) ?? null, minute * MINUTE);
    if (!next) continue;
    seen.push(`${program} ${minute}m ${next.to} ${next.value}`);
    if (next.to === 'RESOLVED') open.delete(program);
    else open.set(program, { state: next.to, startedAt: open.get(program)?.startedAt ?? next.at });
  }
  return seen;
}

describe('the alert evaluator', () => {
  it.each(cases)('$name', ({ rule, series, expected }) => {
    expect(replay({ ...GT7, ...rule }, series)).toEqual(expected);
  });

  it('accepts a recovery threshold only on the healthy side of the threshold', () => {
    expect(isHealthySide('GT', 7, 6)).toBe(true);
    expect(isHealthySide('GTE', 7, 7)).toBe(true);
    expect(isHealthySide('GT', 7, 8)).toBe(false);
    expect(isHealthySide('LT', 3.5, 4)).toBe(true);
    expect(isHealthySide('LTE', 3.5, 3)).toBe(false);
  });
});
