/** `glmv rl --compare`: rollouts RLCS needs to reach uniform sampling's final held-out accuracy. */
import type { StepMetrics } from "../loop/trainer.ts";

export type CompareResult = {
  target: number;
  rlcsRollouts: number | null;
  uniformRollouts: number;
  ratio: number | null;
  rlcsFinalAccuracy: number;
  uniformFinalAccuracy: number;
};

/**
 * Rollouts needed to first reach `target` held-out accuracy: the `rolloutsTotal` of the first evaluation at or
 * above it, or null if none did.
 * @example rolloutsToReach([{ rolloutsTotal: 100, heldout: { accuracy: 0.7 } }], 0.6) // 100
 */
export function rolloutsToReach(
  metrics: readonly Pick<StepMetrics, "rolloutsTotal" | "heldout">[],
  target: number,
): number | null {
  const hit = metrics.find((m) => m.heldout !== undefined && m.heldout.accuracy >= target - 1e-12);
  return hit ? hit.rolloutsTotal : null;
}

/** `compare.json`: rollouts RLCS needed to reach uniform sampling's final accuracy, against uniform's total. */
export function compareRuns(rlcs: readonly StepMetrics[], uniform: readonly StepMetrics[]): CompareResult {
  const lastEval = (ms: readonly StepMetrics[]) => ms.filter((m) => m.heldout).at(-1);
  const u = lastEval(uniform);
  const r = lastEval(rlcs);
  const target = u?.heldout?.accuracy ?? 0;
  const rlcsRollouts = rolloutsToReach(rlcs, target);
  const uniformRollouts = rolloutsToReach(uniform, target) ?? u?.rolloutsTotal ?? 0;
  return {
    target,
    rlcsRollouts,
    uniformRollouts,
    ratio: rlcsRollouts === null || uniformRollouts === 0 ? null : rlcsRollouts / uniformRollouts,
    rlcsFinalAccuracy: r?.heldout?.accuracy ?? 0,
    uniformFinalAccuracy: target,
  };
}
