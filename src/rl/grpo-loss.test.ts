import { grad, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { presetConfig } from "../model/config.ts";
import { buildInputs, forwardLogits } from "../model/model.ts";
import { initParams } from "../model/params.ts";
import { AdamWConfig, adamwInit } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import {
  clippedSurrogate,
  createGrpoStep,
  type GrpoBatch,
  GrpoLossConfig,
  lossWeights,
  tokenLogprobs,
} from "./grpo-loss.ts";

beforeAll(async () => {
  await initTensorEngine();
});

/** The surrogate written plainly on the host, as the reference for the jax version. */
function hostSurrogate(logp: number[], old: number[], adv: number[], w: number[], lo: number, hi: number) {
  let loss = 0;
  for (let i = 0; i < logp.length; i++) {
    const r = Math.exp(logp[i]! - old[i]!);
    const c = Math.min(Math.max(r, 1 - lo), 1 + hi);
    loss -= w[i]! * Math.min(r * adv[i]!, c * adv[i]!);
  }
  return loss;
}

describe("GRPO clipped surrogate", () => {
  const logp = [-0.1, -2.0, -0.5, -1.2, -0.7, -3.0];
  const old = [-0.5, -1.0, -0.5, -2.0, -0.2, -3.0];
  const adv = [1, 1, -1, -1, 2, 0.5];
  const w = [0.2, 0.2, 0.2, 0.2, 0.2, 0];

  it("matches the host formula with clip-higher", async () => {
    const [loss, clipFrac] = clippedSurrogate(np.array(logp), np.array(old), np.array(adv), np.array(w), {
      clipLow: 0.2,
      clipHigh: 0.28,
    });
    expect(await loss.jsAsync()).toBeCloseTo(hostSurrogate(logp, old, adv, w, 0.2, 0.28), 5);
    expect(await clipFrac.jsAsync()).toBeGreaterThan(0);
  });

  it("clip-higher lets a positive-advantage ratio rise further than the low side lets it fall", async () => {
    // ratio e^0.3 ≈ 1.35 is clipped at 1.28 (high) and would be at 1.2 with symmetric clipping.
    const f = (hi: number) =>
      clippedSurrogate(np.array([0.3]), np.array([0]), np.array([1]), np.array([1]), {
        clipLow: 0.2,
        clipHigh: hi,
      })[0];
    expect(await f(0.28).jsAsync()).toBeCloseTo(-1.28, 5);
    expect(await f(0.2).jsAsync()).toBeCloseTo(-1.2, 5);
  });

  it("tokens with zero weight (prompt, injected) get zero gradient", async () => {
    const g = grad(
      (lp: ReturnType<typeof np.array>) =>
        clippedSurrogate(lp, np.array(old), np.array(adv), np.array(w), { clipLow: 0.2, clipHigh: 0.28 })[0],
    )(np.array(logp));
    const gv = (await g.jsAsync()) as number[];
    expect(gv[5]).toBe(0);
    // Token 0: ratio e^0.4 ≈ 1.49 > 1.28 with A > 0 → clipped, no gradient; token 2: ratio 1, gradient −w·A·r.
    expect(gv[0]).toBeCloseTo(0, 9);
    expect(gv[2]).toBeCloseTo(0.2, 5);
  });
});

describe("loss weights", () => {
  it("per-sample aggregation gives each sample equal total weight", () => {
    const w = lossWeights(
      [
        [0, 1, 1, 1, 1],
        [0, 1, 0, 0, 0],
      ],
      "sample",
    );
    expect(w[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(0.5, 12);
    expect(w[1]!.reduce((a, b) => a + b, 0)).toBeCloseTo(0.5, 12);
    const t = lossWeights(
      [
        [0, 1, 1, 1, 1],
        [0, 1, 0, 0, 0],
      ],
      "token",
    );
    expect(t[0]![1]).toBeCloseTo(0.2, 12);
    expect(t[1]![1]).toBeCloseTo(0.2, 12);
  });
});

describe("GRPO step on the tiny model", () => {
  it("raises the log-probability of a positively rewarded sample and lowers a negative one", async () => {
    const cfg = presetConfig("tiny");
    let params = initParams(cfg, 1);
    let opt = adamwInit(params);
    const tokens = [
      [5, 9, 12, 7, 3, 3],
      [5, 9, 12, 8, 4, 4],
    ];
    const mask = [
      [0, 0, 0, 1, 1, 0],
      [0, 0, 0, 1, 1, 0],
    ];
    const targets = tokens.map((r) => [...r.slice(1), 0]);
    const targetMask = mask.map((r) => [...r.slice(1), 0]);
    const makeBatch = (oldLogprobs: number[][]): GrpoBatch => ({
      inputs: buildInputs(cfg, { tokens }).inputs,
      targets: np.array(targets.flat(), { shape: [2, 6], dtype: np.int32 }),
      oldLogprobs: np.array(oldLogprobs.flat(), { shape: [2, 6] }),
      advantages: np.array([1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1], { shape: [2, 6] }),
      weights: np.array(lossWeights(targetMask, "sample").flat(), { shape: [2, 6] }),
    });
    const logprobsOf = async (p: typeof params) => {
      const { inputs } = buildInputs(cfg, { tokens });
      const lp = tokenLogprobs(
        forwardLogits(p, inputs, cfg),
        np.array(targets.flat(), { shape: [2, 6], dtype: np.int32 }),
      );
      return (await lp.jsAsync()) as number[][];
    };
    const before = await logprobsOf(tree.ref(params));
    const step = createGrpoStep(cfg, GrpoLossConfig.parse({}), AdamWConfig.parse({ weightDecay: 0 }));
    for (let i = 0; i < 5; i++) {
      const res = step(params, opt, makeBatch(before), 1e-2);
      params = res.params;
      opt = res.opt;
      tree.dispose([res.loss, res.clipFraction, res.gradNorm]);
    }
    const after = await logprobsOf(tree.ref(params));
    const sum = (rows: number[][], r: number) => rows[r]![2]! + rows[r]![3]!;
    expect(sum(after, 0)).toBeGreaterThan(sum(before, 0));
    expect(sum(after, 1)).toBeLessThan(sum(before, 1));
    step.dispose();
    tree.dispose([params, opt]);
  });
});
