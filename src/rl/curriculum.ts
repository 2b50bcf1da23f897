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
 * The offline difficulty (`curriculum.offline`) is the task level (0.25 / 0.5 / 0.75), or 1 − π_SFT(y*|x): the
 * SFT model's probability of the item's reference response y*, one teacher-forced forward per prompt instead of the
 * paper's pass@k by sampling. It lower-bounds pass@1 (another response may be right too).
 *
 * Measured on the main job (seed 1): π_SFT(y*|x) is well calibrated at first (prompts in [0.2, 0.4) were solved by
 * 40% of the first steps' rollouts, [0.6, 0.8) by 78%, < 0.05 by 1%), and prompts it marks mid-band had signal in
 * 65% of their groups over steps 1–5 against 16% for the rest. Over steps 6–10 that was 32% against 33%: RL at
 * lr 5e-4 reshuffles which prompts are uncertain within about five steps. Rollouts themselves predict little more:
 * a prompt whose group had signal had signal again ≤ 3 steps later in 57% of revisits, against 41% after a group
 * without (396-prompt pool). That bounds what any sampler that learns from history can gain here.
 * Scored once, the likelihood prior lifted the sampled-signal rate only to 0.46–0.54 (uniform 0.40–0.50, seeds 1–3).
 *
 * Hence `rescorePerStep` (trainer.ts, phase "rescore"): before each step, that many random prompts (300 by
 * default) are rescored under the current policy (one teacher-forced forward each, ~7 ms on the tiny model), their
 * fresh difficulty replaces prior and counts, and the step's sampling rounds draw from those prompts first, so no
 * draw rests on a stale score. The rescored likelihood is calibrated to a pass rate on the groups of the last three
 * steps (calibration.ts), because the policy's responses drift from the SFT reference as RL goes on.
 *
 * Uncalibrated, with sharpness 2 and floor 0.02, that gave a sampled-signal rate of 0.76 / 0.74 / 0.74 / 0.75 /
 * 0.74 over RL seeds 1–5 (uniform sampling: 0.40 / 0.50 / 0.45 / 0.40 / 0.41), and RLCS reached uniform's final
 * accuracy with 0.49 / — / 0.53 / 0.33 / — of the rollouts uniform needed (`npm run bench:rlcs`).
 * `npm run bench -- difficulty` then showed that the likelihood predicts signal well (the 22 of 300 candidates it
 * ranks best have signal 0.93–0.96, the oracle's 0.98–0.99) and that the soft draw lost most of it (0.68–0.71).
 * With sharpness 16 and floor 0.001 for that draw (`RESCORED_DRAW_DEFAULTS`) the rate is ~0.93 and the ratio 0.38 /
 * — / 0.28 / 0.26 / 0.37 (seed 2: uniform's final 0.924 not reached within its rollouts, best 0.889; README).
 *
 * Variants measured and dropped (sharpness 2): rescoring the same 300 random prompts but sampling from the whole
 * pool gave 0.57 / 0.60 / 0.51 (seeds 1–3) and reached uniform on none; 600 gave 0.66 / 0.62 / 0.64. Drawing the
 * prompts to rescore by their (stale) weights instead of at random gave 0.73 / 0.77 but learned less per step
 * (held-out 0.56 / 0.67 after 30 steps, seeds 1–2), likely from drawing the same prompts again and again (not
 * measured). Calibration alone, at sharpness 2, left the rate at 0.69–0.77 and the ratio at 0.55 / 0.83 / — / 0.74
 * / 0.40: a reshuffle within the noise of one seed. The sharp draw fills a step with the one confusion the policy
 * is unsure of at the moment (seed 2, steps 35 and 40: 12 of 16 prompts with answer "2", then 10 with "3"); capping
 * any answer at a quarter of a step's prompts made it worse: the signal rate fell to 0.36–0.62 once the uncertainty
 * sat in one or two answers, and seeds 2 and 5 stalled at 0.78 and 0.67 (dropped).
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

/**
 * Defaults for a pool whose estimates are mostly stale (the curriculum server; an RL loop without rescoring).
 * Measured on the main job without rescoring (30 steps, seed 1, a 396-prompt pool): sharpness 4 / decay 0.97 /
 * floor 0.01 and sharpness 3 / decay 0.95 / priorWeight 1 left the sampled-signal rate at 0.47 and 0.42 (these
 * defaults 0.45, uniform 0.44): a prompt seen once every ~9 steps by a fast-changing policy has no informative online
 * estimate.
 */
export const CURRICULUM_DEFAULTS: CurriculumOptions = {
  groupSize: 8,
  decay: 0.9,
  priorWeight: 2,
  sharpness: 2,
  floor: 0.02,
};

/**
 * The RL loop's draw from the 300 prompts just rescored (`rescorePerStep`; `curriculum.freshSharpness` and
 * `freshFloor`, while the rest of the pool keeps `CURRICULUM_DEFAULTS`): there it can be nearly greedy, because
 * diversity comes from the random candidates and every prompt is rescored every ~10 steps (what the floor was for).
 * `npm run bench -- difficulty` at three checkpoints (after SFT, seed 1 step 20, seed 2 step 40; 300 prompts × 16
 * rollouts) put the expected signal of 22 prompts drawn with sharpness 2 / floor 0.02 at 0.71 / 0.70 / 0.68, with
 * 16 / 0.001 at 0.90 / 0.90 / 0.92, and the 22 best by the calibrated likelihood at 0.94 / 0.93 / 0.96 (oracle:
 * 0.98 / 0.98 / 0.99): the likelihood was a good predictor all along, the soft draw was the loss. In runs the
 * sampled-signal rate went from ~0.75 to ~0.93 (README).
 */
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
