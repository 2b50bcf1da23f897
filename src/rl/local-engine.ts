/**
 * The main job's engine on one machine: the tiny GLM-V model in-process (`LocalPolicy`), SFT by `runSft`, greedy
 * held-out evaluation by `evaluateAccuracy`, and rewards from a worker pool with per-item deadlines. One batch size
 * and one padded prompt length everywhere (design.md), so the run compiles its few functions once per policy.
 */
import { presetConfig } from "../model/config.ts";
import { initParams } from "../model/params.ts";
import { loadTinyTokenizer } from "../model/tokenizer.ts";
import { RewardPool } from "../reward/pool.ts";
import type { RlConfig } from "./config.ts";
import { promptFromItem } from "./encode.ts";
import { evaluateAccuracy } from "./evaluate.ts";
import { LocalPolicy } from "./local-policy.ts";
import type { MainJobEngine } from "./main-job.ts";
import type { Policy, UpdateBatch } from "./policy.ts";
import { runSft } from "./sft.ts";

const median = (xs: readonly number[]): number | undefined =>
  xs.length ? xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined;

/** Prompt length every prompt is padded to: the tiny task prompts are about 26–35 tokens. */
const PROMPT_LEN = 48;

const asLocal = (p: Policy): LocalPolicy => p as LocalPolicy;

/**
 * Rollouts of a remote engine may sample a media placeholder (`<|image|>`, `<|video|>`, their begin/end markers;
 * the local policy bans them at sampling), above all from a barely trained model at temperature 1. The packed update cannot replay such a response (the placeholder has no
 * image behind it), so its sample is cut before the first placeholder and gets advantage 0: it still fills its
 * slot in the batch but carries no gradient. Its reward was already scored on the full text.
 */
export function withoutMediaTokens(batch: UpdateBatch, mediaIds: ReadonlySet<number>): UpdateBatch {
  const samples = batch.samples.map((s) => {
    const cut = s.rollout.tokens.findIndex((t) => mediaIds.has(t));
    if (cut < 0) return s;
    const r = s.rollout;
    const rollout = {
      ...r,
      tokens: r.tokens.slice(0, cut),
      logprobs: r.logprobs.slice(0, cut),
      injected: r.injected.slice(0, cut),
    };
    return { ...s, rollout, advantage: 0 };
  });
  return { ...batch, samples };
}

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
    evaluate: async (policy, items) => {
      const report = await evaluateAccuracy(policy, items, {
        style: rl.style,
        maxNewTokens: rl.maxNewTokens,
        thinkBudget: rl.thinkBudget,
        seed: config.seed,
      });
      const perFamily = Object.fromEntries(Object.entries(report.perFamily).map(([f, c]) => [f, c.accuracy]));
      const perLevel = Object.fromEntries(Object.entries(report.perLevel).map(([l, c]) => [l, c.accuracy]));
      const sampled = await evaluateAccuracy(policy, items, {
        style: rl.style,
        maxNewTokens: rl.maxNewTokens,
        thinkBudget: rl.thinkBudget,
        seed: config.seed + 1,
        temperature: rl.temperature,
      });
      return {
        accuracy: report.accuracy,
        perFamily,
        perLevel,
        sampledAccuracy: sampled.accuracy,
        items: report.n,
      };
    },
    toPrompt: promptFromItem,
    scorer: () => {
      const pool = new RewardPool({
        workers: rl.rewardWorkers,
        deadlineMs: rl.rewardDeadlineMs,
        style: rl.style,
      });
      return { score: (inputs) => pool.score(inputs), close: () => pool.close() };
    },
  };
}
