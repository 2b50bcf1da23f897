/**
 * Online calibration of the likelihood difficulty (RLCS with `curriculum.rescorePerStep`).
 *
 * A rescored prompt's fresh difficulty is 1 − ℓ, with ℓ = π(y*|x) the current policy's probability of the item's
 * reference response. Right after SFT, ℓ tracks the pass rate well. As RL moves the policy, its responses drift
 * away from the SFT reference while staying right: ℓ falls for prompts the policy still solves, so the prompts it
 * puts in the mid band are mostly solved ones (measured: docs/experiments.md#calibration).
 *
 * The fix uses what every step observes anyway: each rescored prompt that the step then samples yields a pair
 * (ℓ, k right of G rollouts). Over the last few steps' pairs we fit
 *
 *     p(ℓ) = σ(slope · logit ℓ + intercept)
 *
 * by maximum likelihood on the binomial counts (Platt scaling), with a Gaussian pull of strength `priorStrength`
 * toward the identity (slope 1, intercept 0) so that a handful of pairs cannot swing it. The rescored prompt's
 * difficulty is then 1 − p(ℓ). Pure functions; the trainer keeps the pairs in its checkpointed state.
 */

import { countCorrect } from "./curriculum.ts";

/** One rescored prompt's likelihood and what its group did in the same step. */
export type CalibrationSample = { step: number; likelihood: number; right: number; trials: number };

/** `p(ℓ) = σ(slope · logit ℓ + intercept)`. */
export type Calibration = { slope: number; intercept: number };

export const IDENTITY_CALIBRATION: Calibration = { slope: 1, intercept: 0 };

/** logit ℓ, with ℓ clamped away from 0 and 1 (a long reference response can have a likelihood of 1e-30). */
export const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The calibrated pass rate of a prompt with reference likelihood `likelihood` (the identity returns it as is). */
export const calibratedPassRate = (c: Calibration, likelihood: number): number =>
  c.slope === 1 && c.intercept === 0 ? likelihood : sigmoid(c.slope * logit(likelihood) + c.intercept);

/** The fit's objective: binomial log-likelihood of the pairs minus the pull toward the identity. */
function objective(
  samples: readonly CalibrationSample[],
  xs: readonly number[],
  c: Calibration,
  prior: number,
) {
  let ll = -(prior / 2) * ((c.slope - 1) ** 2 + c.intercept ** 2);
  for (const [i, s] of samples.entries()) {
    const z = c.slope * xs[i]! + c.intercept;
    // log σ(z) = −log(1 + e^−z), written to stay finite for large |z|
    const logP = -softplus(-z);
    const logQ = -softplus(z);
    ll += s.right * logP + (s.trials - s.right) * logQ;
  }
  return ll;
}

const softplus = (z: number): number => (z > 30 ? z : Math.log1p(Math.exp(z)));

/**
 * Maximum a-posteriori Platt fit of `samples`: Newton's method with step halving on a concave objective (the
 * binomial log-likelihood minus `priorStrength / 2 · ((slope − 1)² + intercept²)`). No samples: the identity.
 * @example fitCalibration([{ step: 1, likelihood: 0.5, right: 90, trials: 100 }], 1).intercept // ≈ 2.1
 */
export function fitCalibration(samples: readonly CalibrationSample[], priorStrength: number): Calibration {
  if (!(priorStrength > 0)) throw new RangeError(`priorStrength must be > 0, got ${priorStrength}`);
  const xs = samples.map((s) => logit(s.likelihood));
  let c: Calibration = { ...IDENTITY_CALIBRATION };
  let value = objective(samples, xs, c, priorStrength);
  for (let iter = 0; iter < 100; iter++) {
    const { slope: a, intercept: b } = c;
    // gradient g and negated Hessian [[haa, hab], [hab, hbb]] of the objective at (a, b)
    let ga = -priorStrength * (a - 1);
    let gb = -priorStrength * b;
    let haa = priorStrength;
    let hab = 0;
    let hbb = priorStrength;
    for (const [i, s] of samples.entries()) {
      const x = xs[i]!;
      const p = sigmoid(a * x + b);
      const r = s.right - s.trials * p;
      const w = s.trials * p * (1 - p);
      ga += r * x;
      gb += r;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // a full Newton step can overshoot far from the optimum: halve it until the objective does not fall
    let t = 1;
    let next = { slope: a + da, intercept: b + db };
    let nextValue = objective(samples, xs, next, priorStrength);
    while (nextValue < value && t > 1e-6) {
      t /= 2;
      next = { slope: a + t * da, intercept: b + t * db };
      nextValue = objective(samples, xs, next, priorStrength);
    }
    c = next;
    value = nextValue;
    if (t * (Math.abs(da) + Math.abs(db)) < 1e-10) break;
  }
  return c;
}

/** The samples of the last `window` steps before `step` (older ones no longer describe the policy). */
export const recentSamples = (
  samples: readonly CalibrationSample[],
  step: number,
  window: number,
): CalibrationSample[] => samples.filter((s) => s.step < step && s.step >= step - window);

/**
 * The pairs one step adds: every sampled group whose prompt was rescored this step (correct = reward ≥
 * `threshold`, as in `observePrompt`).
 */
export function calibrationSamples(
  groups: readonly { promptId: string; rewards: readonly number[] }[],
  likelihoods: ReadonlyMap<string, number>,
  step: number,
  threshold = 0.5,
): CalibrationSample[] {
  return groups.flatMap((g) => {
    const likelihood = likelihoods.get(g.promptId);
    if (likelihood === undefined) return [];
    return [{ step, likelihood, right: countCorrect(g.rewards, threshold), trials: g.rewards.length }];
  });
}
