/**
 * Ratio-EMA oversampling (§5.3.1). After each step, the share of prompts whose rollouts were all right or all wrong
 * (no learning signal) sets how many more prompts the next step must sample to still fill a batch with signal:
 * `expansion = 1 / (1 − invalidRate)`, smoothed by an exponential moving average.
 */

export type RatioEmaState = { ema: number; steps: number };

export type RatioEmaOptions = {
  /** Weight of the newest observation (0 < alpha ≤ 1). */
  alpha: number;
  /** Upper bound on the expansion: an all-invalid step would otherwise ask for infinitely many prompts. */
  maxExpansion: number;
};

/** Chosen, not swept; see docs/experiments.md#ratio-ema-oversampling. */
export const RATIO_EMA_DEFAULTS: RatioEmaOptions = { alpha: 0.3, maxExpansion: 4 };

export const initRatioEma = (): RatioEmaState => ({ ema: 1, steps: 0 });

/** `1 / (1 − invalidRate)`, capped at `maxExpansion`. */
export function expansionRatio(invalidRate: number, maxExpansion = RATIO_EMA_DEFAULTS.maxExpansion): number {
  if (!(invalidRate >= 0 && invalidRate <= 1))
    throw new RangeError(`invalidRate must be in [0, 1], got ${invalidRate}`);
  if (invalidRate >= 1) return maxExpansion;
  return Math.min(maxExpansion, 1 / (1 - invalidRate));
}

/** Fold one step's invalid-group rate into the EMA. The first observation replaces the initial value of 1. */
export function updateRatioEma(
  state: RatioEmaState,
  invalidRate: number,
  opts: RatioEmaOptions = RATIO_EMA_DEFAULTS,
): RatioEmaState {
  const x = expansionRatio(invalidRate, opts.maxExpansion);
  const ema = state.steps === 0 ? x : opts.alpha * x + (1 - opts.alpha) * state.ema;
  return { ema, steps: state.steps + 1 };
}

/** How many prompts to sample for a batch of `batchSize` groups with signal: `ceil(B · ema)`. */
export const promptsToSample = (batchSize: number, state: RatioEmaState): number =>
  Math.ceil(batchSize * state.ema - 1e-9);
