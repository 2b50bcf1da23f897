/**
 * What the local and the remote main-job engines share: held-out evaluation into a `HeldoutResult`, the reward
 * pool as a scorer, the median step time that sizes the continued-SFT control, and π(y*|x) from a policy's
 * sequence logprobs.
 */

import { promptFromItem } from "../../data/task-encoding.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { RewardPool } from "../../reward/pool.ts";
import type { RlConfig } from "../loop/config.ts";
import { evaluateAccuracy } from "../loop/evaluate.ts";
import type { Policy, ScoredSequence } from "../loop/policy.ts";
import type { HeldoutResult } from "../loop/trainer.ts";
import type { MainJobEngine } from "./main-job-engine.ts";

/**
 * Per item, the probability of its reference response `reference(item)` after its prompt: the exp of the summed
 * per-token logprobs that `score` (a policy's teacher-forced `sequenceLogprobs`) returns.
 */
export async function referenceLikelihoods(
  items: readonly TaskItem[],
  reference: (item: TaskItem) => number[],
  score: (seqs: ScoredSequence[]) => Promise<number[][]>,
): Promise<number[]> {
  const logprobs = await score(
    items.map((item) => ({ prompt: promptFromItem(item), rollout: { tokens: reference(item) } })),
  );
  return logprobs.map((lp) => Math.exp(lp.reduce((a, b) => a + b, 0)));
}

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
): Promise<HeldoutResult & { responses: string[] }> {
  const rl = config.rl;
  const opts = {
    style: rl.style,
    maxNewTokens: rl.maxNewTokens,
    thinkBudget: rl.thinkBudget,
    thinking: rl.thinking,
  };
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
    responses: report.results.map((r) => r.text),
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
      thinking: config.rl.thinking,
    });
    return { score: (inputs) => pool.score(inputs), close: () => pool.close() };
  };
