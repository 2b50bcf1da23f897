/**
 * The main job's engine on one machine: the tiny GLM-V model in-process (`LocalPolicy`), SFT by `runSft`,
 * held-out evaluation by `evaluateHeldout` (greedy, plus one sample per item at the rollout temperature), and
 * rewards from a worker pool with per-item deadlines. One batch size and one padded prompt length everywhere
 * (design.md), so the run compiles its few functions once per policy.
 */

import { promptFromItem } from "../../data/task-encoding.ts";
import { sftTarget } from "../../data/tasks/cot.ts";
import { presetConfig } from "../../model/config.ts";
import { encodeResponse } from "../../model/encode.ts";
import { initParams } from "../../model/params.ts";
import { loadTinyTokenizer } from "../../model/tokenizer.ts";
import { LocalPolicy } from "../engines/local/local-policy.ts";
import type { RlConfig } from "../loop/config.ts";
import type { Policy } from "../loop/policy.ts";
import { evaluateHeldout, median, referenceLikelihoods, rewardScorer } from "./engine-common.ts";
import type { MainJobEngine } from "./main-job-engine.ts";
import { runSft } from "./sft.ts";

/** Prompt length every prompt is padded to: the tiny task prompts are about 26–35 tokens. */
const PROMPT_LEN = 48;

const asLocal = (p: Policy): LocalPolicy => p as LocalPolicy;

/**
 * @example const engine = await createLocalEngine(parseRlConfig({})); await runMainJob({ outDir, config, engine });
 */
export async function createLocalEngine(config: RlConfig): Promise<MainJobEngine> {
  const cfg = presetConfig(config.model);
  const tok = await loadTinyTokenizer();
  const rl = config.rl;
  // SFT step time, measured on the first SFT run, sets the continued-SFT control's step count for a wall time.
  let sftSecondsPerStep: number | undefined;
  return {
    createPolicy: async (seed) =>
      new LocalPolicy(cfg, initParams(cfg, seed), tok, {
        batchSize: config.batchSize,
        promptLen: PROMPT_LEN,
        context: rl.packContext,
        imagesPerRow: rl.maxSeqsPerMicroBatch,
        moeBalance: config.moeBalance,
        style: rl.style,
        ...(config.backend ? { backend: config.backend } : {}),
      }),
    resetOptimizer: (policy) => asLocal(policy).resetOptimizer(),
    sft: async (policy, items, opts) => {
      const t0 = performance.now();
      const stepSeconds: number[] = [];
      const steps = opts.steps ?? Math.max(1, Math.round((opts.seconds ?? 0) / (sftSecondsPerStep ?? 0.3)));
      await runSft(
        asLocal(policy),
        items,
        [],
        {
          steps,
          lr: opts.lr,
          warmupSteps: Math.min(opts.warmupSteps, Math.max(0, steps - 1)),
          seed: opts.seed,
          context: rl.packContext,
          style: rl.style,
          moeBalance: config.moeBalance,
        },
        {
          onStep: (log) => {
            stepSeconds.push(log.seconds);
            opts.onStep?.(log.step);
          },
        },
      );
      const seconds = (performance.now() - t0) / 1000;
      // the median step, so the first step's compilation does not shrink the control
      if (opts.steps !== undefined) sftSecondsPerStep = median(stepSeconds);
      return { steps, seconds };
    },
    evaluate: (policy, items) => evaluateHeldout(policy, items, config, { sampled: true }),
    toPrompt: promptFromItem,
    referenceLikelihood: (policy, items) => {
      const local = asLocal(policy);
      return referenceLikelihoods(
        items,
        (item) => encodeResponse(local.encoder, sftTarget(item, rl.style)),
        (seqs) => local.sequenceLogprobs(seqs),
      );
    },
    scorer: rewardScorer(config),
  };
}
