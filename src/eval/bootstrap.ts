/**
 * Seeded bootstrap intervals for a run's mean item score and for the difference between two runs on the same items
 * (percentile method, 95% by default). Pure: the seed is the only source of randomness (util/rng.ts).
 */
import { createRng } from "../util/rng.ts";

/** A bootstrap interval and how it was drawn (so a reader can reproduce it). */
export type Interval = { low: number; high: number; level: number; resamples: number; seed: number };

export type BootstrapOptions = { seed?: number; resamples?: number; level?: number };

const DEFAULTS = { seed: 0, resamples: 1000, level: 0.95 };

/**
 * The `q`-quantile of sorted values with linear interpolation between the closest ranks (numpy's default).
 * @example quantileSorted([0, 1, 2, 3], 0.5) // 1.5
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (at - lo) * (sorted[hi]! - sorted[lo]!);
}

export const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length;

/** Means of `resamples` resamples (with replacement) of `values`, sorted ascending. */
function resampledMeans(values: readonly number[], resamples: number, seed: number): number[] {
  const rng = createRng(seed);
  const n = values.length;
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[rng.int(0, n - 1)]!;
    means[r] = sum / n;
  }
  return means.sort((a, b) => a - b);
}

function percentileInterval(values: readonly number[], opts: BootstrapOptions): Interval | null {
  const { seed, resamples, level } = { ...DEFAULTS, ...opts };
  if (values.length === 0) return null;
  const means = resampledMeans(values, resamples, seed);
  const tail = (1 - level) / 2;
  return { low: quantileSorted(means, tail), high: quantileSorted(means, 1 - tail), level, resamples, seed };
}

/**
 * The bootstrap interval of the mean of `values` (null for no values).
 * @example bootstrapMean([0, 1, 1, 0, 1], { seed: 7 }) // { low: 0.2, high: 1, level: 0.95, … }
 */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions = {}): Interval | null {
  return percentileInterval(values, opts);
}

/**
 * The paired bootstrap interval of mean(b − a) over items scored in both runs (`a[i]` and `b[i]` are one item):
 * items are resampled together, so what the runs share cancels out. Null for no items.
 * @example pairedBootstrapDifference([0, 0, 1], [1, 0, 1]) // { delta: 1/3, interval: { low: 0, high: 1, … } }
 */
export function pairedBootstrapDifference(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): { delta: number; interval: Interval | null } {
  if (a.length !== b.length)
    throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  const diffs = b.map((x, i) => x - a[i]!);
  return { delta: mean(diffs), interval: percentileInterval(diffs, opts) };
}
