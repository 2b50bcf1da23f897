/**
 * What the local and the remote main-job engines share: held-out evaluation into a `HeldoutResult`, the reward
 * pool as a scorer, and the median step time that sizes the continued-SFT control.
 */
import type { TaskItem } from "../data/tasks/types.ts";
import { RewardPool } from "../reward/pool.ts";
import type { RlConfig } from "./config.ts";
import { evaluateAccuracy } from "./evaluate.ts";
import type { MainJobEngine } from "./main-job.ts";
import type { Policy } from "./policy.ts";
import type { HeldoutResult } from "./trainer.ts";

/** The middle value (upper middle for an even count); undefined for no values. */
export const median = (xs: readonly number[]): number | undefined =>
  xs.length ? xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined;

const accuracies = (cells: Record<string, { accuracy: number }>): Record<string, number> =>
  Object.fromEntries(Object.entries(cells).map(([k, c]) => [k, c.accuracy]));

/**
 * Greedy held-out accuracy by family and level; with `sampled`, also one answer per item at the rollout
 * temperature (`sampledAccuracy`, one more generation pass).
 */
export async function evaluateHeldout(
  policy: Policy,
  items: readonly TaskItem[],
  config: RlConfig,
  { sampled }: { sampled: boolean },
): Promise<HeldoutResult> {
  const rl = config.rl;
  const opts = { style: rl.style, maxNewTokens: rl.maxNewTokens, thinkBudget: rl.thinkBudget };
  const report = await evaluateAccuracy(policy, items, { ...opts, seed: config.seed });
  const sampledAccuracy = sampled
    ? (await evaluateAccuracy(policy, items, { ...opts, seed: config.seed + 1, temperature: rl.temperature }))
        .accuracy
    : undefined;
  return {
    accuracy: report.accuracy,
    perFamily: accuracies(report.perFamily),
    perLevel: accuracies(report.perLevel),
    ...(sampledAccuracy !== undefined ? { sampledAccuracy } : {}),
    items: report.n,
  };
}

/** The reward pool of a run (worker threads, per-item deadline) as a main-job scorer. */
export const rewardScorer =
  (config: RlConfig): MainJobEngine["scorer"] =>
  () => {
    const pool = new RewardPool({
      workers: config.rl.rewardWorkers,
      deadlineMs: config.rl.rewardDeadlineMs,
      style: config.rl.style,
    });
    return { score: (inputs) => pool.score(inputs), close: () => pool.close() };
  };
