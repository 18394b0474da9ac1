/**
 * Pure statistics for the benchmarks: order statistics of a sample, nothing else. Quantiles interpolate
 * linearly between the two closest ranks (Hyndman & Fan type 7, the default of R and NumPy): with n samples
 * the q-quantile sits at rank (n - 1) q of the sorted sample. With few samples a p95 is close to the maximum;
 * the reports say how many samples each figure has.
 */

export interface Summary {
  /** Number of samples. */
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/** The q-quantile (0 ≤ q ≤ 1) of `samples`, interpolated linearly between closest ranks. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside 0..1`);
  if (samples.some((x) => !Number.isFinite(x))) throw new RangeError('samples must be finite numbers');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * q;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of an empty sample');
  return {
    n: samples.length,
    min: quantile(samples, 0),
    median: quantile(samples, 0.5),
    p95: quantile(samples, 0.95),
    max: quantile(samples, 1),
    mean: samples.reduce((s, x) => s + x, 0) / samples.length,
  };
}

/** Rounds every figure of a summary to `digits` decimals (for reports; the raw samples stay exact). */
export function roundSummary(summary: Summary, digits = 2): Summary {
  const r = (x: number) => round(x, digits);
  return { n: summary.n, min: r(summary.min), median: r(summary.median), p95: r(summary.p95), max: r(summary.max), mean: r(summary.mean) };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The samples after the first `warmup` (which are discarded as warm-up). */
export function afterWarmup<T>(samples: readonly T[], warmup: number): T[] {
  return samples.slice(warmup);
}
