import { numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamWConfig, adamwInit, adamwUpdate, globalNorm, warmupCosine } from "./adamw.ts";
import { initTensorEngine } from "./engine.ts";

beforeAll(async () => {
  await initTensorEngine();
});

type P = { w: ReturnType<typeof np.ones>; b: ReturnType<typeof np.ones> };
const mk = (w: number[], b: number[]): P => ({
  w: np.array(new Float32Array(w), { shape: [1, w.length] }),
  b: np.array(new Float32Array(b), { shape: [b.length] }),
});

/** Plain-number AdamW for one scalar, written out from the update rule. */
function refAdamW(
  p: number,
  grads: number[],
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** t);
    const vHat = v / (1 - b2 ** t);
    p = p - lr * (mHat / (Math.sqrt(vHat) + eps) + wd * p);
  });
  return p;
}

describe("AdamW", () => {
  it("matches the hand-written rule over two steps, decaying only matrices", () => {
    const cfg = AdamWConfig.parse({ beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clipNorm: 0 });
    let params = mk([1, -2], [0.5]);
    let opt = adamwInit(params);
    const steps = [
      [0.3, -0.1, 2],
      [0.1, 0.4, -1],
    ];
    for (const [gw0, gw1, gb] of steps) {
      const r = adamwUpdate(params, mk([gw0!, gw1!], [gb!]), opt, np.array(0.01), cfg);
      params = r.params;
      opt = r.state;
      r.gradNorm.dispose();
    }
    const w = params.w.ref.dataSync();
    const b = params.b.ref.dataSync();
    expect(w[0]).toBeCloseTo(refAdamW(1, [0.3, 0.1], 0.01, 0.9, 0.99, 1e-8, 0.1), 6);
    expect(w[1]).toBeCloseTo(refAdamW(-2, [-0.1, 0.4], 0.01, 0.9, 0.99, 1e-8, 0.1), 6);
    expect(b[0]).toBeCloseTo(refAdamW(0.5, [2, -1], 0.01, 0.9, 0.99, 1e-8, 0), 6); // 1-D: no decay
    expect(opt.step.ref.item()).toBe(2);
    tree.dispose([params, opt]);
  });

  it("clips by global norm before the moments", () => {
    const cfg = AdamWConfig.parse({ beta1: 0.9, beta2: 0.99, weightDecay: 0, clipNorm: 1 });
    const params = mk([0, 0], [0]);
    const opt = adamwInit(params);
    const r = adamwUpdate(params, mk([3, 0], [4]), opt, np.array(0.1), cfg);
    expect(r.gradNorm.item()).toBeCloseTo(5, 5);
    // moments see g·(1/5): m = 0.1·0.6 for w0
    expect(r.state.mu.w.ref.dataSync()[0]).toBeCloseTo(0.1 * 0.6, 5);
    tree.dispose([r.params, r.state]);
  });

  it("consumes its inputs and returns fresh arrays", () => {
    const params = mk([1], [1]);
    const grads = mk([1], [1]);
    const opt = adamwInit(params);
    const lr = np.array(0.1);
    const r = adamwUpdate(params, grads, opt, lr, AdamWConfig.parse({}));
    for (const a of [params.w, params.b, grads.w, grads.b, opt.step, opt.mu.w, opt.nu.b, lr])
      expect(a.refCount).toBe(0);
    for (const a of tree.leaves([r.params, r.state, r.gradNorm]))
      expect((a as { refCount: number }).refCount).toBe(1);
    tree.dispose([r.params, r.state, r.gradNorm]);
  });

  it("globalNorm is √Σg²", () => {
    expect(globalNorm(mk([3, 4], [12])).item()).toBeCloseTo(13, 5);
  });

  it("warm-up then cosine to the floor", () => {
    const o = { peakLr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 };
    expect(warmupCosine(0, o)).toBeCloseTo(0.25, 12);
    expect(warmupCosine(3, o)).toBeCloseTo(1, 12);
    expect(warmupCosine(4, o)).toBeCloseTo(1, 12);
    expect(warmupCosine(9, o)).toBeCloseTo(0.55, 12);
    expect(warmupCosine(14, o)).toBeCloseTo(0.1, 12);
    expect(warmupCosine(100, o)).toBeCloseTo(0.1, 12);
  });
});
