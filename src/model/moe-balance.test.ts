import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamWConfig } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { countArrays, disposeAll, totalRefCount } from "../tensor/own.ts";
import { presetConfig } from "./config.ts";
import { buildTrainBatch } from "./model.ts";
import {
  expertLoad,
  expertLoadStats,
  moeLayerIndices,
  sequenceBalanceLoss,
  tokenValidity,
  updateCorrectionBias,
  updateCorrectionBiasHost,
} from "./moe-balance.ts";
import { initParams, type MoeLayerParams } from "./params.ts";
import { createTrainerCore } from "./trainer-core.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const host = (a: JaxArray): number[] => Array.from(a.dataSync() as ArrayLike<number>);

describe("loss-free bias update", () => {
  it("moves under-loaded experts up, over-loaded down, the exact mean not at all (hand-computed)", () => {
    // mean load 2: expert 0 over (−u), 1 under (+u), 2 at the mean (0), 3 idle (+u)
    const got = updateCorrectionBiasHost([0.1, 0, -0.1, 0], [5, 1, 2, 0], 1e-3);
    expect(Array.from(got)).toEqual(Array.from(Float32Array.from([0.099, 0.001, -0.1, 0.001])));
    expect(Array.from(updateCorrectionBiasHost([0.1, 0.2], [3, 0], 0))).toEqual(
      Array.from(Float32Array.from([0.1, 0.2])),
    );
  });

  it("the in-graph update equals the host rule", () => {
    const bias = [0.1, 0, -0.1, 0];
    const load = [5, 1, 2, 0];
    const got = updateCorrectionBias(np.array(bias), np.array(load), 1e-3);
    const want = updateCorrectionBiasHost(bias, load, 1e-3);
    host(got).forEach((v, i) => {
      expect(v).toBeCloseTo(want[i]!, 7);
    });
  });
});

describe("sequence-level balance loss (DeepSeek-V3 form)", () => {
  // token 0 picks {0,1}, token 1 picks {1,2}; s' = s / Σs per token
  // f = E/(kT)·counts = [1, 2, 1, 0]; P = [0.25625, 0.41875, 0.2125, 0.1125]; Σ f·P = 1.30625
  const scores = [0.9, 0.8, 0.1, 0.2, 0.1, 0.7, 0.6, 0.2];

  it("matches the hand-computed value", () => {
    const loss = sequenceBalanceLoss(np.array(scores, { shape: [2, 4] }), np.ones([1, 2]), 2, 1e-4);
    expect(host(loss)[0]).toBeCloseTo(1.30625e-4, 9);
  });

  it("ignores padding tokens and averages over sequences", () => {
    const padded = [...scores, 0.99, 0.01, 0.99, 0.01]; // a third, invalid token
    const valid = np.array([1, 1, 0], { shape: [1, 3] });
    const one = sequenceBalanceLoss(np.array(padded, { shape: [3, 4] }), valid, 2, 1);
    expect(host(one)[0]).toBeCloseTo(1.30625, 5);
    // two sequences: the hand case and a uniform router (Σ f·P = 1) → mean 1.153125
    const two = [...scores, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const loss = sequenceBalanceLoss(np.array(two, { shape: [4, 4] }), np.ones([2, 2]), 2, 1);
    expect(host(loss)[0]).toBeCloseTo(1.153125, 5);
  });

  it("leaves an all-padding sequence (an unused packed row) out of the mean instead of dividing by 0", () => {
    const empty = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1];
    const valid = np.array([1, 1, 0, 0], { shape: [2, 2] });
    const loss = sequenceBalanceLoss(np.array([...scores, ...empty], { shape: [4, 4] }), valid, 2, 1);
    expect(host(loss)[0]).toBeCloseTo(1.30625, 5);
  });

  it("validity comes from the attention mask; loads count valid assignments", () => {
    // causal mask of 3 tokens with the last one padded
    const attn = [1, 1, 0];
    const mask: boolean[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) mask.push(j <= i && attn[j] === 1);
    const valid = tokenValidity(np.array(mask, { shape: [1, 1, 3, 3], dtype: np.bool }));
    expect(host(valid.ref)).toEqual([1, 1, 0]);
    const selected = np.array([1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0], { shape: [3, 4] });
    expect(host(expertLoad(selected, valid))).toEqual([1, 2, 1, 0]);
  });

  it("load statistics: max/mean and idle experts per layer", () => {
    const [s] = expertLoadStats([[4, 0, 2, 2]], [1]);
    expect(s).toEqual({ layer: 1, load: [4, 0, 2, 2], maxOverMean: 2, idleExperts: [1] });
  });
});

describe("tiny-moe training step", () => {
  const cfg = presetConfig("tiny-moe", { text: { vocabSize: 48 } });
  const tokens = [0, 1].map((r) => Array.from({ length: 16 }, (_, i) => (i * (r + 3) + r) % 40));
  const lossMask = tokens.map((row) => row.map((_, i) => (i > 0 ? 1 : 0)));

  it("loss goes down; the bias moves by u·sign(mean − load) after each step; refcounts stay put", async () => {
    const core = createTrainerCore(cfg, initParams(cfg, 5));
    const batch = buildTrainBatch(cfg, { tokens }, lossMask);
    const adamw = AdamWConfig.parse({});
    const layers = moeLayerIndices(cfg);
    expect(layers).toEqual([1, 2]);
    const bias = (l: number) => host((core.params.text.layers[l] as MoeLayerParams).correctionBias.ref);
    const arrays = countArrays(core.params);
    const losses: number[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const before = layers.map(bias);
        const fb = await core.forwardBackwardRows(tree.ref(batch), { kind: "cross_entropy" });
        await core.optimStep(3e-3, adamw);
        losses.push(fb.loss);
        expect(fb.auxLoss).toBeGreaterThan(0.5e-4 * layers.length); // ≈ α per layer for a near-uniform router
        expect(fb.auxLoss).toBeLessThan(4e-4 * layers.length);
        layers.forEach((l, j) => {
          const load = fb.loads![j]!;
          expect(load.reduce((a, b) => a + b, 0)).toBe(2 * 16 * cfg.text.moe!.topK);
          const want = updateCorrectionBiasHost(before[j]!, load, 1e-3);
          bias(l).forEach((v, k) => {
            expect(v).toBeCloseTo(want[k]!, 6);
          });
        });
        expect(totalRefCount(core.params)).toBe(arrays);
      }
      expect(losses[7]!).toBeLessThan(losses[0]! - 0.3);
    } finally {
      core.dispose();
      disposeAll(batch);
    }
  });

  it("u = 0 freezes the correction bias", async () => {
    const moeBalance = { biasUpdateRate: 0, auxLossCoef: 0 };
    const core = createTrainerCore(cfg, initParams(cfg, 6), { moeBalance });
    const batch = buildTrainBatch(cfg, { tokens }, lossMask);
    try {
      for (let i = 0; i < 2; i++) {
        const fb = await core.forwardBackwardRows(tree.ref(batch), { kind: "cross_entropy" });
        await core.optimStep(3e-3, AdamWConfig.parse({}));
        expect(fb.auxLoss).toBe(0);
      }
      for (const l of moeLayerIndices(cfg))
        expect(
          host((core.params.text.layers[l] as MoeLayerParams).correctionBias.ref).every((v) => v === 0),
        ).toBe(true);
    } finally {
      core.dispose();
      disposeAll(batch);
    }
  });
});
