/**
 * RLCS: reinforcement learning with curriculum sampling (§5.3). Pure functions; the run store persists the state.
 *
 * Each prompt has an offline difficulty `d ∈ [0, 1]` and an online record of its recent rollouts: decayed success
 * and trial counts, `s` and `n`, where every observation loses weight by `decay` per training step. The estimated
 * pass rate blends both, with the offline estimate acting as `priorWeight` pseudo-trials:
 *
 *     p̂ = (s + priorWeight · (1 − d)) / (n + priorWeight)
 *
 * A group of G rollouts carries learning signal only when it disagrees, which happens with probability
 *
 *     signal(p̂) = 1 − p̂^G − (1 − p̂)^G
 *
 * — zero for prompts that are always solved or never solved, highest at p̂ = 0.5. The sampling weight is
 * `floor + signal(p̂)^sharpness`: `sharpness` > 1 concentrates sampling on the mid-difficulty band (at 16 the draw
 * is nearly the best-first order), and `floor` keeps every prompt reachable so that a stale estimate can be
 * corrected. Prompts are drawn without replacement in proportion to their weights (Efraimidis–Spirakis keys
 * `u^(1/w)`).
 *
 * The offline difficulty (`curriculum.offline`) is the task level (0.25 / 0.5 / 0.75), or 1 − π_SFT(y*|x): the SFT
 * model's probability of the item's reference response y*, one teacher-forced forward per prompt instead of the
 * paper's pass@k by sampling (a lower bound on pass@1). It goes stale within a few RL steps, so the RL loop
 * rescores random prompts under the current policy before each step and draws from them first (`rescorePerStep`,
 * trainer.ts; calibration.ts). What was tried and measured: docs/experiments.md.
 */

export type PromptStats = {
  /** Offline difficulty in [0, 1]: 0 = easy. */
  offlineDifficulty: number;
  /** Decayed count of correct rollouts. */
  successes: number;
  /** Decayed count of rollouts. */
  trials: number;
  /** The step at which `successes` and `trials` were last decayed. */
  step: number;
};

export type CurriculumOptions = {
  /** Rollouts per prompt (G). */
  groupSize: number;
  /** Per-step decay of old observations (1 = never forget). */
  decay: number;
  /** Weight of the offline difficulty, in pseudo-trials. */
  priorWeight: number;
  /** Exponent on the signal probability: > 1 favours the mid band more strongly. */
  sharpness: number;
  /** Minimum weight of any prompt. */
  floor: number;
};

/** Soft, for mostly stale estimates (no rescoring); see docs/experiments.md#stale-pool-draw. */
export const CURRICULUM_DEFAULTS: CurriculumOptions = {
  groupSize: 8,
  decay: 0.9,
  priorWeight: 2,
  sharpness: 2,
  floor: 0.02,
};

/** Nearly best-first, for the prompts rescored this step; see docs/experiments.md#sharp-draw. */
export const RESCORED_DRAW_DEFAULTS = { sharpness: 16, floor: 0.001 } as const;

export const newPromptStats = (offlineDifficulty: number, step = 0): PromptStats => ({
  offlineDifficulty: Math.min(1, Math.max(0, offlineDifficulty)),
  successes: 0,
  trials: 0,
  step,
});

/** Age the counts of `s` to `step`. */
function decayed(s: PromptStats, step: number, decay: number): { successes: number; trials: number } {
  const f = decay ** Math.max(0, step - s.step);
  return { successes: s.successes * f, trials: s.trials * f };
}

/** The blended pass-rate estimate p̂ at `step`. */
export function estimatedPassRate(
  s: PromptStats,
  step: number,
  opts: CurriculumOptions = CURRICULUM_DEFAULTS,
) {
  const { successes, trials } = decayed(s, step, opts.decay);
  return (successes + opts.priorWeight * (1 - s.offlineDifficulty)) / (trials + opts.priorWeight);
}

/** Probability that a group of G rollouts at pass rate p is neither all right nor all wrong. */
export const signalProbability = (p: number, groupSize: number): number =>
  Math.max(0, 1 - p ** groupSize - (1 - p) ** groupSize);

/** The sampling weight of one prompt at `step`. */
export function curriculumWeight(
  s: PromptStats,
  step: number,
  opts: CurriculumOptions = CURRICULUM_DEFAULTS,
) {
  const p = estimatedPassRate(s, step, opts);
  return opts.floor + signalProbability(p, opts.groupSize) ** opts.sharpness;
}

/** How many of a group's rollouts count as correct: reward ≥ `threshold`. */
export const countCorrect = (rewards: readonly number[], threshold = 0.5): number =>
  rewards.filter((r) => r >= threshold).length;

/** Record one group's rewards (correct = reward ≥ `threshold`) for a prompt observed at `step`. */
export function observePrompt(
  s: PromptStats,
  step: number,
  rewards: readonly number[],
  opts: CurriculumOptions = CURRICULUM_DEFAULTS,
  threshold = 0.5,
): PromptStats {
  const { successes, trials } = decayed(s, step, opts.decay);
  const right = countCorrect(rewards, threshold);
  return { ...s, successes: successes + right, trials: trials + rewards.length, step };
}

export type Weighted = { id: string; weight: number };

/**
 * Draw `n` distinct ids in proportion to their weights (without replacement): each id gets the key `u^(1/w)`
 * for a uniform `u` from `rand`, and the n largest keys win.
 */
export function sampleWithoutReplacement(
  items: readonly Weighted[],
  n: number,
  rand: () => number,
): string[] {
  const keyed = items
    .filter((it) => it.weight > 0)
    .map((it) => ({ id: it.id, key: Math.log(Math.max(rand(), 1e-300)) / it.weight }));
  keyed.sort((a, b) => b.key - a.key);
  return keyed.slice(0, n).map((k) => k.id);
}

/** Uniform sampling, the control for `--sampler uniform`: every prompt has weight 1. */
export function sampleUniform(ids: readonly string[], n: number, rand: () => number): string[] {
  return sampleWithoutReplacement(
    ids.map((id) => ({ id, weight: 1 })),
    n,
    rand,
  );
}

/** RLCS sampling over a map of prompt statistics. */
export function sampleCurriculum(
  stats: ReadonlyMap<string, PromptStats>,
  n: number,
  step: number,
  rand: () => number,
  opts: CurriculumOptions = CURRICULUM_DEFAULTS,
): string[] {
  const items: Weighted[] = [];
  for (const [id, s] of stats) items.push({ id, weight: curriculumWeight(s, step, opts) });
  return sampleWithoutReplacement(items, n, rand);
}
