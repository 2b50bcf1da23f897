/**
 * The phases of one RL step (design.md "The data flow"), each a small function of plain data so that `rlStep` in
 * trainer.ts reads as the list of phase names. Randomness comes only from the passed generator.
 */
import type { TaskItem } from "../../data/tasks/types.ts";
import type { ResponseStyle } from "../../model/domains.ts";
import { packSequences } from "../../model/packing.ts";
import type { ScoredResult, ScoreInput } from "../../reward/system.ts";
import { ADVANTAGES, meanStd } from "../algorithm/advantages.ts";
import { balanceRanks } from "../algorithm/balance.ts";
import {
  type CurriculumOptions,
  estimatedPassRate,
  newPromptStats,
  observePrompt,
  type PromptStats,
  sampleCurriculum,
  sampleUniform,
} from "../algorithm/curriculum.ts";
import { type Group, shuffle } from "../algorithm/subsample.ts";
import type { RlLoopConfig } from "./config.ts";
import type { PolicyPrompt, Rollout, UpdateBatch, UpdateSample } from "./policy.ts";

/**
 * A prompt's rollouts with their reward results: the unit the step keeps or drops. Its mean reward and whether it
 * has signal (rewards that differ by more than `signalEps`) are worked out once, when it is scored.
 */
export type ScoredGroup = Group<{
  item: TaskItem;
  prompt: PolicyPrompt;
  rollouts: Rollout[];
  results: ScoredResult[];
}> & { round: number; mean: number; signal: boolean };

/**
 * Offline difficulty of an item from its task level (1 = easiest of 3): 0.25, 0.5, 0.75. A prior only: after a
 * group or two of rollouts the online pass rate dominates (`priorWeight` pseudo-trials).
 * @example offlineDifficulty({ level: 1 }) // 0.25
 */
export const offlineDifficulty = (item: Pick<TaskItem, "level">): number =>
  Math.min(1, Math.max(0, item.level / 4));

/**
 * Initial curriculum state: every training item with its offline difficulty and no observations. `difficulty`
 * overrides the level-based one per item id (e.g. 1 − the SFT model's likelihood of the item's reference response).
 */
export function initialPromptStats(
  items: Iterable<TaskItem>,
  difficulty?: ReadonlyMap<string, number>,
): Map<string, PromptStats> {
  const out = new Map<string, PromptStats>();
  for (const item of items)
    out.set(item.id, newPromptStats(difficulty?.get(item.id) ?? offlineDifficulty(item)));
  return out;
}

/** The curriculum weights of a run's config (the draw from the stale pool; `samplePromptIds`). */
export function curriculumOptions(cfg: Pick<RlLoopConfig, "groupSize" | "curriculum">): CurriculumOptions {
  const { decay, priorWeight, sharpness, floor } = cfg.curriculum;
  return { groupSize: cfg.groupSize, decay, priorWeight, sharpness, floor };
}

/** One draw of prompts: how many, at which step, from which stream, and which prompts are out or first. */
export type PromptDraw = {
  n: number;
  step: number;
  rand: () => number;
  /** Prompts already drawn this step. */
  exclude: ReadonlySet<string>;
  /** The prompts rescored this step (RLCS draws from them first). */
  preferred?: ReadonlySet<string> | undefined;
};

/** The config a prompt draw reads. */
export type SamplerConfig = Pick<RlLoopConfig, "sampler" | "groupSize" | "curriculum">;

/**
 * Phase "sample": `n` prompt ids not in `exclude`, by RLCS weights or uniformly. With `preferred` (the prompts
 * rescored this step), RLCS draws from those first, with the sharp `freshSharpness` / `freshFloor` their fresh
 * estimates allow, and from the rest of the pool (soft `sharpness` / `floor`) only when they run out.
 */
export function samplePromptIds(
  stats: ReadonlyMap<string, PromptStats>,
  draw: PromptDraw,
  cfg: SamplerConfig,
): string[] {
  const { n, step, rand, exclude, preferred } = draw;
  if (cfg.sampler === "uniform") {
    const ids = [...stats.keys()].filter((id) => !exclude.has(id));
    return sampleUniform(ids, n, rand);
  }
  const open = [...stats].filter(([id]) => !exclude.has(id));
  const opts = curriculumOptions(cfg);
  if (!preferred) return sampleCurriculum(new Map(open), n, step, rand, opts);
  const { freshSharpness: sharpness, freshFloor: floor } = cfg.curriculum;
  const fresh = new Map(open.filter(([id]) => preferred.has(id)));
  const first = sampleCurriculum(fresh, n, step, rand, { ...opts, sharpness, floor });
  if (first.length >= n) return first;
  const rest = new Map(open.filter(([id]) => !preferred.has(id)));
  return [...first, ...sampleCurriculum(rest, n - first.length, step, rand, opts)];
}

/** Phase "reward" input: one `ScoreInput` per rollout, ids `<promptId>#<k>`. */
export function scoreInputs(
  items: readonly TaskItem[],
  rollouts: readonly Rollout[][],
  style: ResponseStyle,
): ScoreInput[] {
  return items.flatMap((item, i) =>
    (rollouts[i] ?? []).map((r, k) => ({
      id: `${item.id}#${k}`,
      domain: item.domain,
      response: r.text,
      answer: item.answer,
      question: item.question,
      options: item.options,
      style,
    })),
  );
}

/** One round's prompts and their rollouts, grouped per prompt in prompt order. */
export type RoundRollouts = {
  round: number;
  items: readonly TaskItem[];
  prompts: readonly PolicyPrompt[];
  rollouts: readonly Rollout[][];
};

/**
 * Split flat results back into groups, one per prompt, in prompt order, each with its mean reward and whether its
 * rewards' spread exceeds `signalEps` (`hasSignal`).
 */
export function toGroups(
  { round, items, prompts, rollouts }: RoundRollouts,
  results: readonly ScoredResult[],
  signalEps: number,
): ScoredGroup[] {
  let at = 0;
  return items.map((item, i) => {
    const rs = rollouts[i] ?? [];
    const res = results.slice(at, at + rs.length);
    at += rs.length;
    const rewards = res.map((r) => r.reward);
    const { mean, std } = meanStd(rewards);
    return {
      promptId: item.id,
      rewards,
      payload: { item, prompt: prompts[i]!, rollouts: rs, results: res },
      round,
      mean,
      signal: std > signalEps,
    };
  });
}

/** Phase "observe": fold each group's rewards into its prompt's online difficulty. */
export function observeGroups(
  stats: Map<string, PromptStats>,
  step: number,
  groups: readonly ScoredGroup[],
  opts: CurriculumOptions,
): void {
  for (const g of groups) {
    const s = stats.get(g.promptId);
    if (s) stats.set(g.promptId, observePrompt(s, step, g.rewards, opts));
  }
}

/**
 * Phase "subsample": B groups with signal, about half right and half wrong (§5.3.1): groups with a mean reward of
 * at least 0.5 and below it are taken alternately, each side in a random order drawn from `rand`, and whichever
 * side runs out is topped up from the other. When even the refill rounds found fewer than B, the batch is topped
 * up with groups without signal (advantage 0, no gradient) so its size never changes; `signalShare` then reports
 * the shortfall.
 */
export function fillBatch<G extends Pick<ScoredGroup, "mean" | "signal">>(
  groups: readonly G[],
  batchPrompts: number,
  rand: () => number,
): G[] {
  const withSignal = groups.filter((g) => g.signal);
  const high = shuffle(
    withSignal.filter((g) => g.mean >= 0.5),
    rand,
  );
  const low = shuffle(
    withSignal.filter((g) => g.mean < 0.5),
    rand,
  );
  const kept: G[] = [];
  while (kept.length < batchPrompts && (high.length > 0 || low.length > 0)) {
    const preferHigh = kept.length % 2 === 0;
    const side = (preferHigh ? high : low).length > 0 ? (preferHigh ? high : low) : preferHigh ? low : high;
    kept.push(side.shift()!);
  }
  const filler = groups.filter((g) => !g.signal).slice(0, batchPrompts - kept.length);
  return [...kept, ...filler];
}

/** Phase "adv": group-normalised advantages (0 for a group without signal), one update sample per rollout. */
export function withAdvantages(
  groups: readonly ScoredGroup[],
  cfg: Pick<RlLoopConfig, "advantage">,
): UpdateSample[] {
  const estimate = ADVANTAGES[cfg.advantage];
  return groups.flatMap((g) => {
    const adv = g.signal ? estimate(g.rewards) : g.rewards.map(() => 0);
    return g.payload.rollouts.map((rollout, k) => ({
      prompt: g.payload.prompt,
      rollout,
      advantage: adv[k] ?? 0,
    }));
  });
}

/** Split micro-batches holding more than `max` sequences (each prompt brings an image; a row has fixed image slots). */
export function capMicroBatches(microBatches: readonly number[][], max: number): number[][] {
  // an uncapped (Infinity) micro-batch stays whole: ceil(n / ∞) would be 0 pieces and drop it
  const pieces = (n: number) => (n === 0 ? 0 : Math.max(1, Math.ceil(n / max)));
  return microBatches.flatMap((mb) =>
    Array.from({ length: pieces(mb.length) }, (_, i) => mb.slice(i * max, (i + 1) * max)),
  );
}

/** The config packing reads; without `maxSeqsPerMicroBatch` micro-batches are capped by tokens only. */
export type PackConfig = Pick<RlLoopConfig, "ranks" | "packContext"> &
  Partial<Pick<RlLoopConfig, "maxSeqsPerMicroBatch">>;

/** The pack phase's result: the batch, its rank split (micro-batches of each rank), and their figures. */
export type PackedBatch = { batch: UpdateBatch; ranks: number[][][]; balance: number; fill: number };

/**
 * Phase "pack": balance sequences over the simulated ranks, then pack each rank into micro-batches of at most
 * `packContext` tokens and `maxSeqsPerMicroBatch` sequences; the batch carries them rank after rank.
 */
export function packBatch(samples: UpdateSample[], cfg: PackConfig): PackedBatch {
  const {
    ranks: numRanks,
    packContext,
    maxSeqsPerMicroBatch: maxPerMicroBatch = Number.POSITIVE_INFINITY,
  } = cfg;
  const lengths = samples.map((s) => s.rollout.promptTokens + s.rollout.tokens.length);
  const context = Math.max(packContext, ...lengths, 1);
  const assignment = balanceRanks(lengths, numRanks);
  let used = 0;
  let capacity = 0;
  const ranks = assignment.ranks.map((rankItems) => {
    const packing = packSequences(
      rankItems.map((i) => lengths[i]!),
      context,
    );
    const micro = capMicroBatches(packing.microBatches, maxPerMicroBatch);
    used += packing.fill * packing.microBatches.length * context;
    capacity += micro.length * context;
    return micro.map((mb) => mb.map((local) => rankItems[local]!));
  });
  return {
    batch: { samples, microBatches: ranks.flat() },
    ranks,
    balance: assignment.balance,
    fill: capacity > 0 ? used / capacity : 1,
  };
}

/** Histogram (10 bins over [0, 1]) of the estimated pass rates of all prompts: the curriculum's view of difficulty. */
export function passRateHistogram(
  stats: ReadonlyMap<string, PromptStats>,
  step: number,
  opts: CurriculumOptions,
): number[] {
  const bins = new Array<number>(10).fill(0);
  for (const s of stats.values()) {
    const p = estimatedPassRate(s, step, opts);
    bins[Math.min(9, Math.max(0, Math.floor(p * 10)))]! += 1;
  }
  return bins;
}

/** Linear warm-up of the learning rate over the first `warmupSteps` steps (1-based), then constant. */
export const learningRateAt = (step: number, lr: number, warmupSteps: number): number =>
  warmupSteps > 0 ? lr * Math.min(1, step / warmupSteps) : lr;

/** One rollout as written to `rollouts/step-N.jsonl`: the response and its reward breakdown. */
export type RolloutRecord = {
  step: number;
  round: number;
  promptId: string;
  family: string;
  level: number;
  text: string;
  tokens: number;
  injected: number;
  reward: number;
  trained: boolean;
  result: ScoredResult;
};

/** The step's rollouts as logged: response, token counts, reward breakdown, and whether its group was trained. */
export function rolloutRecords(
  groups: readonly ScoredGroup[],
  step: number,
  trained: ReadonlySet<string>,
): RolloutRecord[] {
  return groups.flatMap((g) =>
    g.payload.rollouts.map((r, k) => ({
      step,
      round: g.round,
      promptId: g.promptId,
      family: g.payload.item.family,
      level: g.payload.item.level,
      text: r.text,
      tokens: r.tokens.length,
      injected: r.injected.filter(Boolean).length,
      reward: g.rewards[k] ?? 0,
      trained: trained.has(g.promptId),
      result: g.payload.results[k]!,
    })),
  );
}

/** Share of correct rollouts per task family. */
export function familyAccuracy(
  groups: readonly { payload: { item: Pick<TaskItem, "family">; results: readonly ScoredResult[] } }[],
): Record<string, number> {
  const acc: Record<string, { right: number; n: number }> = {};
  for (const g of groups) {
    const a = acc[g.payload.item.family] ?? { right: 0, n: 0 };
    acc[g.payload.item.family] = a;
    a.right += g.payload.results.filter((r) => r.correct).length;
    a.n += g.payload.results.length;
  }
  return Object.fromEntries(Object.entries(acc).map(([f, a]) => [f, a.n ? a.right / a.n : 0]));
}
