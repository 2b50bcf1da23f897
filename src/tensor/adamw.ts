/**
 * AdamW (decoupled weight decay, bias correction) with global-norm gradient clipping, as pure functions over
 * parameter trees, plus a warm-up + cosine learning-rate schedule. The step count and learning rate are arrays
 * so a jitted training step compiles once for the whole run.
 */
import { type Array as JaxArray, type JsTree, numpy as np, tree } from "@jax-js/jax";
import { z } from "zod";

/** Optimiser settings. */
export const AdamWConfig = z.object({
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.95), // GLM-style LLM training uses 0.95 rather than torch's 0.999
  eps: z.number().positive().default(1e-8),
  /** Decoupled decay, applied only to leaves with ≥ 2 dims (matrices, embeddings), never to norms/biases. */
  weightDecay: z.number().min(0).default(0.01),
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  clipNorm: z.number().min(0).default(1),
});
export type AdamWConfig = z.infer<typeof AdamWConfig>;

/** Optimiser state: step count (float scalar) and first/second moments shaped like the params. */
export type AdamWState<T> = { step: JaxArray; mu: T; nu: T };

/**
 * Fresh state (zeros) for `params`. Borrows `params`.
 * @example let opt = adamwInit(params);
 */
export function adamwInit<T extends JsTree<JaxArray>>(params: T): AdamWState<T> {
  const zeros = () => tree.map((p: JaxArray) => np.zeros(p.shape), params) as T;
  return { step: np.zeros([]), mu: zeros(), nu: zeros() };
}

/** √(Σ g²) over every leaf. Consumes `grads`. */
export function globalNorm(grads: JsTree<JaxArray>): JaxArray {
  const leaves = tree.leaves(grads) as JaxArray[];
  let total: JaxArray = np.zeros([]);
  for (const g of leaves) total = total.add(np.square(g).sum());
  return np.sqrt(total);
}

/**
 * One AdamW update. Consumes `params`, `grads`, `state` and `lr` (a float scalar array) and returns the new
 * params and state plus the pre-clipping gradient norm.
 * @example ({ params, state: opt } = adamwUpdate(params, grads, opt, np.array(1e-3), AdamWConfig.parse({})));
 */
export function adamwUpdate<T extends JsTree<JaxArray>>(
  params: T,
  grads: T,
  state: AdamWState<T>,
  lr: JaxArray,
  cfg: AdamWConfig,
): { params: T; state: AdamWState<T>; gradNorm: JaxArray } {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd, clipNorm } = cfg;
  const gradNorm = globalNorm(tree.ref(grads));
  // scale = min(1, clip / (norm + 1e-6)); no scaling when clipping is off
  const scale =
    clipNorm > 0 ? np.minimum(np.reciprocal(gradNorm.ref.add(1e-6)).mul(clipNorm), 1) : np.ones([]);
  const step = state.step.add(1);
  const bc1 = np
    .exp(step.ref.mul(Math.log(b1)))
    .neg()
    .add(1); // 1 − β1^t
  const bc2 = np
    .exp(step.ref.mul(Math.log(b2)))
    .neg()
    .add(1); // 1 − β2^t
  const stepSize = lr.ref.div(bc1); // lr / (1 − β1^t)
  const [ps, def] = tree.flatten(params) as [JaxArray[], ReturnType<typeof tree.structure>];
  const gs = tree.leaves(grads) as JaxArray[];
  const ms = tree.leaves(state.mu) as JaxArray[];
  const vs = tree.leaves(state.nu) as JaxArray[];
  const sqrtBc2 = np.sqrt(bc2);
  const newP: JaxArray[] = [];
  const newM: JaxArray[] = [];
  const newV: JaxArray[] = [];
  ps.forEach((p, i) => {
    const g = gs[i]!.mul(scale.ref);
    const m = ms[i]!.mul(b1).add(g.ref.mul(1 - b1));
    const v = vs[i]!.mul(b2).add(np.square(g).mul(1 - b2));
    // m̂ / (√v̂ + ε) = (m / bc1) / (√v / √bc2 + ε)
    const denom = np.sqrt(v.ref).div(sqrtBc2.ref).add(eps);
    let upd = m.ref.mul(stepSize.ref).div(denom);
    if (wd > 0 && p.ndim >= 2) upd = upd.add(p.ref.mul(lr.ref).mul(wd));
    newP.push(p.sub(upd));
    newM.push(m);
    newV.push(v);
  });
  tree.dispose([scale, stepSize, sqrtBc2, lr]);
  return {
    params: tree.unflatten(def, newP) as T,
    state: { step, mu: tree.unflatten(def, newM) as T, nu: tree.unflatten(def, newV) as T },
    gradNorm,
  };
}

/** Schedule settings for `warmupCosine`. */
export type ScheduleOptions = { peakLr: number; warmupSteps: number; totalSteps: number; minLr?: number };

/**
 * Linear warm-up from 0 to `peakLr` over `warmupSteps`, then cosine decay to `minLr` at `totalSteps`
 * (and `minLr` after). `step` counts from 0.
 * @example warmupCosine(0, { peakLr: 3e-3, warmupSteps: 10, totalSteps: 100 }) // 3e-4
 */
export function warmupCosine(step: number, o: ScheduleOptions): number {
  const minLr = o.minLr ?? 0;
  if (step < o.warmupSteps) return (o.peakLr * (step + 1)) / o.warmupSteps;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  return minLr + 0.5 * (o.peakLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
