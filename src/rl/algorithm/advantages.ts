/**
 * Group-relative advantages (GRPO, §5.3). Pure functions of the rewards of one group of rollouts of one prompt.
 */

/** Mean and population standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: 0, std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * A group carries learning signal when its rewards are not all equal. Continuous rewards (OCR, IoU) make
 * `std != 0` too lax (1e-12 differences are noise), hence an epsilon.
 */
export const hasSignal = (rewards: readonly number[], eps = 1e-6): boolean => meanStd(rewards).std > eps;

export type AdvantageFn = (rewards: readonly number[], eps?: number) => number[];

/** GRPO: `(r − mean) / (std + eps)` within the group. */
export const grpo: AdvantageFn = (rewards, eps = 1e-6) => {
  const { mean, std } = meanStd(rewards);
  return rewards.map((r) => (r - mean) / (std + eps));
};

/** Dr. GRPO: `r − mean`, without the division by the standard deviation. */
export const drGrpo: AdvantageFn = (rewards) => {
  const { mean } = meanStd(rewards);
  return rewards.map((r) => r - mean);
};

/** The advantage estimators by their paper names; a config's zod enum is built from these keys. */
export const ADVANTAGES = { grpo, drGrpo } satisfies Record<string, AdvantageFn>;
export type AdvantageName = keyof typeof ADVANTAGES;
