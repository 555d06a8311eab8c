/**
 * A rollup row's KPIs as stored with it: its counts, and res_mean, res_p50, res_p90 and sat_mean
 * (rollups.repository.ts rowOf writes them from the aggregate the row encodes, so they are what
 * that aggregate answers, to the bit). A series point that is one stored row is answered from
 * these alone: a breakdown's year of days by office is 18,000 rows, and reading their sums and
 * histograms to compute the same four numbers again was most of its cost.
 */
import type { KpiInputs, Percentile } from './registry.js';

export class RowAnswers implements KpiInputs {
  constructor(
    readonly resCount: number,
    readonly satCount: number,
    readonly satPositive: number,
    readonly conflicts: number,
    readonly resWithin: number,
    readonly resJudged: number,
    private readonly mean: number | null,
    private readonly p50: number | null,
    private readonly p90: number | null,
    private readonly satisfaction: number | null,
  ) {}

  resMean(): number | null {
    return this.mean;
  }

  satMean(): number | null {
    return this.satisfaction;
  }

  resPercentile(q: Percentile): number | null {
    return q === 0.5 ? this.p50 : this.p90;
  }
}

/** A bucket without a stored row: no events. */
export const NO_ANSWERS = new RowAnswers(0, 0, 0, 0, 0, 0, null, null, null, null);
