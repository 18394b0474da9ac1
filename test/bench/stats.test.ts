import { describe, expect, it } from 'vitest';
import { afterWarmup, quantile, round, roundSummary, summarize } from '../../bench/stats';

describe('bench statistics', () => {
  it('interpolates quantiles between closest ranks (type 7)', () => {
    const xs = [10, 1, 4, 7];
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(10);
    expect(quantile(xs, 0.5)).toBe(5.5);
    // rank (4 - 1) * 0.95 = 2.85 → 7 + 0.85 * (10 - 7)
    expect(quantile(xs, 0.95)).toBeCloseTo(9.55, 10);
    expect(quantile([3], 0.95)).toBe(3);
  });

  it('does not reorder the caller’s array', () => {
    const xs = [3, 1, 2];
    quantile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('summarizes a sample', () => {
    expect(summarize([1, 2, 3, 4, 5])).toEqual({ n: 5, min: 1, median: 3, p95: 4.8, max: 5, mean: 3 });
    expect(roundSummary(summarize([1, 2, 2]), 1)).toEqual({ n: 3, min: 1, median: 2, p95: 2, max: 2, mean: 1.7 });
    expect(round(2.345, 1)).toBe(2.3);
  });

  it('rejects empty samples, non-finite values and quantiles outside 0..1', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => quantile([1, Number.NaN], 0.5)).toThrow(RangeError);
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });

  it('drops warm-up samples', () => {
    expect(afterWarmup([9, 1, 2], 1)).toEqual([1, 2]);
  });
});
