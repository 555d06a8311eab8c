/** The forecast method (src/forecasts/forecast.ts) on series whose answer is known. */
import { describe, expect, it } from 'vitest';
import { type Day, forecast, type ForecastInput, MIN_HISTORY_DAYS } from '../src/forecasts/forecast.js';

/** Days from a Monday in January, with `part` and `whole` by index. */
function days(n: number, part: (i: number) => number, whole: ((i: number) => number) | null): Day[] {
  return Array.from({ length: n }, (_, i) => ({
    weekday: i % 7,
    month: Math.floor((i % 365) / 30.5),
    part: part(i),
    whole: whole ? whole(i) : null,
  }));
}

function input(history: Day[], rest: number, elapsed: number, extra: Partial<ForecastInput> = {}): ForecastInput {
  const n = history.length;
  let part = 0;
  let whole = 0;
  for (let i = n - elapsed; i < n; i++) {
    part += history[i].part;
    whole += history[i].whole ?? 0;
  }
  return {
    history,
    soFar: { part, whole: history[0].whole === null ? null : whole },
    future: Array.from({ length: rest }, (_, j) => ({ ...calendar(n + j), weight: 1 })),
    elapsedDays: elapsed,
    better: 'lower',
    target: null,
    scale: 1,
    range: { min: 0, max: Number.MAX_SAFE_INTEGER },
    ...extra,
  };
}
const calendar = (i: number) => ({ weekday: i % 7, month: Math.floor((i % 365) / 30.5) });

/** A seeded generator, so the noisy series are the same on every run. */
function seeded(seed: number) {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a / 2 ** 31;
  };
}

describe('forecast', () => {
  it('is null without history, with one day of it, or with too little to replay a period of this shape', () => {
    expect(
      forecast({
        ...input(
          days(1, () => 1, null),
          10,
          1,
        ),
        history: [],
      }),
    ).toBeNull();
    expect(
      forecast(
        input(
          days(1, () => 1, null),
          10,
          1,
        ),
      ),
    ).toBeNull();
    expect(
      forecast(
        input(
          days(MIN_HISTORY_DAYS - 1, () => 1, null),
          10,
          5,
        ),
      ),
    ).toBeNull();
    // Enough days, but a 300-day period cannot be replayed on 60 days of history.
    expect(
      forecast(
        input(
          days(60, () => 1, null),
          290,
          10,
        ),
      ),
    ).toBeNull();
  });

  it('projects a steady count exactly, with a tight interval around it', () => {
    const f = forecast(
      input(
        days(200, () => 4, null),
        20,
        10,
      ),
    )!;
    expect(f.value).toBeCloseTo(40 + 80, 9);
    expect(f.low).toBeCloseTo(120, 9);
    expect(f.high).toBeCloseTo(120, 9);
    expect(f.backtests).toBeGreaterThanOrEqual(20);
  });

  it("follows the weekly pattern: a period whose rest is weekends projects weekends' volume", () => {
    // Ten a weekday, two a weekend day.
    const history = days(210, (i) => (i % 7 >= 5 ? 2 : 10), null);
    // 210 is a Monday; the rest of the period is Saturday and Sunday of the week after.
    const f = forecast({
      ...input(history, 0, 5),
      future: [
        { weekday: 5, month: 6, weight: 1 },
        { weekday: 6, month: 6, weight: 1 },
      ],
    })!;
    // So far: Wednesday to Sunday (10 + 10 + 10 + 2 + 2); the rest: two weekend days, not the mean day's 7.7.
    expect(f.value).toBeCloseTo(34 + 4, 6);
  });

  it('learns a yearly pattern once the history holds a whole year', () => {
    // Twice as many cases in months 6 to 8; the period's rest falls in month 7.
    const busy = (i: number) => {
      const m = Math.floor((i % 365) / 30.5);
      return m >= 6 && m <= 8 ? 20 : 10;
    };
    const history = days(365 * 2 + 184, busy, null);
    const n = history.length; // day 914 is the second of month 6 of the third year: the busy months begin
    const f = forecast(input(history, 10, 5))!;
    let truth = 0;
    for (let i = n - 5; i < n + 10; i++) truth += busy(i);
    expect(Math.abs(f.value - truth) / truth).toBeLessThan(0.01);
    // Without a whole year of history the busy months are not known, and the projection falls short.
    const short = forecast(input(history.slice(n - 300), 10, 5))!;
    expect(short.value).toBeLessThan(truth * 0.9);
  });

  it('projects a ratio from its two sums, and a trend in it', () => {
    // Resolution days rising by 0.01 a day on 10 cases a day.
    const history = days(
      300,
      (i) => 10 * (5 + 0.01 * i),
      () => 10,
    );
    const f = forecast(input(history, 30, 30))!;
    // The period covers days 270..329: mean 5 + 0.01 × 299.5.
    expect(f.value).toBeCloseTo(5 + 0.01 * 299.5, 2);
  });

  it('gives an interval from its own past errors that holds noisy outcomes about 80% of the time', () => {
    const rand = seeded(42);
    const all = days(1_200, () => Math.round(20 + 8 * (rand() - 0.5) * 2), null);
    let held = 0;
    let total = 0;
    for (let end = 500; end + 30 <= all.length; end += 23) {
      const f = forecast(input(all.slice(0, end), 20, 10));
      if (!f) continue;
      let realized = 0;
      for (let i = end - 10; i < end + 20; i++) realized += all[i].part;
      total++;
      if (f.low <= realized && realized <= f.high) held++;
    }
    expect(total).toBeGreaterThan(20);
    expect(held / total).toBeGreaterThan(0.6);
    expect(held / total).toBeLessThan(0.95);
  });

  it("says how likely the target is met, in the KPI's direction", () => {
    const rand = seeded(7);
    const history = days(400, () => 10 + 4 * (rand() - 0.5), null);
    const f = forecast(input(history, 20, 10, { target: 1e9 }))!;
    expect(f.meetsTargetProbability).toBe(1);
    expect(forecast(input(history, 20, 10, { target: 1 }))!.meetsTargetProbability).toBe(0);
    const middle = forecast(input(history, 20, 10, { target: 0 }))!;
    const p = forecast(input(history, 20, 10, { target: middle.value }))!.meetsTargetProbability!;
    expect(p).toBeGreaterThan(0.2);
    expect(p).toBeLessThan(0.8);
    expect(forecast(input(history, 20, 10, { target: 1e9, better: 'higher' }))!.meetsTargetProbability).toBe(0);
    expect(middle.meetsTargetProbability).toBe(0);
  });
});
