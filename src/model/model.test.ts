import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Array as JaxArray, jit, tree, valueAndGrad } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamWConfig } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll, totalRefCount } from "../tensor/own.ts";
import { type GlmvConfig, presetConfig } from "./config.ts";
import {
  buildInputs,
  buildTrainBatch,
  createForward,
  createLossFn,
  featureIndexFor,
  forwardLogits,
  modelLoss,
  nextTokenTargets,
  type TrainBatch,
} from "./model.ts";
import { type GlmvParams, initNamed, initParams, paramsFromNamed, paramsToNamed } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { createTrainerCore } from "./trainer-core.ts";

beforeAll(async () => {
  await initTensorEngine();
});

/** Seeded uniform(−1, 1) stream. */
function noise(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

/** B rows: <boi> 4×<image> <eoi> then text; each row one 56×56 image (grid 1×4×4); loss on the text. */
function toyBatch(cfg: GlmvConfig, b: number, s: number, seed = 1) {
  const k = cfg.tokens;
  const tokens: number[][] = [];
  const lossMask: number[][] = [];
  for (let r = 0; r < b; r++) {
    const row = [k.imageStartTokenId, ...Array<number>(4).fill(k.imageTokenId), k.imageEndTokenId];
    while (row.length < s) row.push(10 + ((r * 7 + row.length * 3) % 20));
    tokens.push(row);
    lossMask.push(row.map((_, i) => (i >= 6 ? 1 : 0)));
  }
  const imageGridThw = Array.from({ length: b }, (): GridThw => [1, 4, 4]);
  const rowLen = cfg.vision.inChannels * cfg.vision.temporalPatchSize * cfg.vision.patchSize ** 2;
  return { tokens, lossMask, imageGridThw, pixels: noise(b * 16 * rowLen, seed) };
}

describe("model inputs", () => {
  it("next-token targets shift by one and normalise the weights", () => {
    const r = nextTokenTargets([[1, 2, 3]], [[0, 1, 1]]);
    expect(Array.from(r.targets)).toEqual([2, 3, 0]);
    expect(Array.from(r.weights)).toEqual([0.5, 0.5, 0]);
  });

  it("feature index: images in order, video placeholders after all image features", () => {
    const k = presetConfig("tiny").tokens;
    const I = k.imageTokenId;
    const rows = [[I, 1, k.videoStartTokenId, I, I, k.videoEndTokenId, I]];
    expect(Array.from(featureIndexFor(rows, k, 2, 2))).toEqual([0, -1, -1, 2, 3, -1, 1]);
    expect(() => featureIndexFor(rows, k, 3, 2)).toThrow(/placeholder counts/);
  });
});

describe("forward and gradients", () => {
  // a tiny random config with odd sizes so that shape mix-ups fail
  const cfg = presetConfig("tiny", {
    vision: { hiddenSize: 32, numHeads: 4, outHiddenSize: 48, intermediateSize: 40, depth: 1 },
    text: {
      hiddenSize: 48,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 40,
      vocabSize: 112,
      mropeSection: [1, 1, 1],
    },
  });

  it("jitted forward equals eager forward, and a text-only batch works", () => {
    const toy = toyBatch(cfg, 2, 10);
    const params = initParams(cfg, 3, 0.2);
    const eager = forwardLogits(tree.ref(params), buildInputs(cfg, toy).inputs, cfg).dataSync();
    const fwd = createForward(cfg);
    const jitted = fwd(tree.ref(params), buildInputs(cfg, toy).inputs).dataSync();
    expect(jitted.length).toBe(2 * 10 * 112);
    let maxDiff = 0;
    for (let i = 0; i < eager.length; i++) maxDiff = Math.max(maxDiff, Math.abs(eager[i]! - jitted[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    const textOnly = forwardLogits(tree.ref(params), buildInputs(cfg, { tokens: [[1, 2, 3]] }).inputs, cfg);
    expect(textOnly.shape).toEqual([1, 3, 112]);
    textOnly.dispose();
    fwd.dispose();
    disposeAll(params);
  });

  it("jitted gradients agree with central finite differences", () => {
    const toy = toyBatch(cfg, 2, 10, 5);
    const named = initNamed(cfg, 11, 0.3);
    const makeBatch = (): TrainBatch => buildTrainBatch(cfg, toy, toy.lossMask);
    const grad = jit((p: GlmvParams, b: TrainBatch) =>
      valueAndGrad((q: GlmvParams) => modelLoss(q, b, cfg))(p),
    );
    const [loss0, grads] = grad(paramsFromNamed(named, cfg), makeBatch()) as [JaxArray, GlmvParams];
    const loss0Value = loss0.item();
    const gradNamed = paramsToNamed(grads);
    disposeAll(grads);
    const lossOf = createLossFn(cfg);
    const evalLoss = (key: string, index: number, delta: number) => {
      const changed = new Map(named);
      const t = named.get(key)!;
      const data = Float32Array.from(t.data);
      data[index]! += delta;
      changed.set(key, { shape: t.shape, data });
      return lossOf(paramsFromNamed(changed, cfg), makeBatch()).item();
    };
    expect(Math.abs(evalLoss("lm_head.weight", 0, 0) - loss0Value)).toBeLessThan(1e-5);
    const keys = [
      "model.visual.patch_embed.proj.weight",
      "model.visual.embeddings.position_embedding.weight",
      "model.visual.blocks.0.attn.qkv.weight",
      "model.visual.downsample.weight",
      "model.visual.merger.post_projection_norm.bias",
      "model.language_model.embed_tokens.weight",
      "model.language_model.layers.0.self_attn.k_proj.bias",
      "model.language_model.layers.1.mlp.gate_up_proj.weight",
      "model.language_model.layers.1.post_mlp_layernorm.weight",
      "lm_head.weight",
    ];
    // step: small enough for the truncation error (third-derivative term) now that the vision position table
    // starts at unit scale (h = 1e-2 was 8% off on a qkv weight; the difference converges to the analytic value
    // as h shrinks), large enough for float32 rounding of the loss
    const h = 3e-3;
    for (const key of keys) {
      const g = gradNamed.get(key)!.data;
      let at = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[at]!)) at = i;
      const fd = (evalLoss(key, at, h) - evalLoss(key, at, -h)) / (2 * h);
      if (process.env.GLMV_VERBOSE) console.log(key, g[at], fd);
      expect(Math.abs(g[at]!), `${key} gradient is not trivially 0`).toBeGreaterThan(1e-3);
      expect(Math.abs(fd - g[at]!), `${key}[${at}] fd ${fd} vs ${g[at]}`).toBeLessThan(
        2e-2 * Math.abs(g[at]!) + 2e-4,
      );
    }
    grad.dispose();
    lossOf.dispose();
  });
});

describe("gather modes", () => {
  it("take (gather + scatter-add gradient) equals the one-hot matmul under jit(valueAndGrad), images included", () => {
    const cfg = presetConfig("tiny");
    const toy = toyBatch(cfg, 2, 10, 5);
    const params = initParams(cfg, 3, 0.3);
    const run = (mode: "take" | "onehot") => {
      const f = jit((p: GlmvParams, b: TrainBatch) =>
        valueAndGrad((q: GlmvParams) => modelLoss(q, b, cfg, mode))(p),
      );
      const [loss, grads] = f(tree.ref(params), buildTrainBatch(cfg, toy, toy.lossMask)) as [
        JaxArray,
        GlmvParams,
      ];
      f.dispose();
      const named = paramsToNamed(grads);
      disposeAll(grads);
      return { loss: loss.item(), named };
    };
    const take = run("take");
    const onehot = run("onehot");
    expect(Math.abs(take.loss - onehot.loss)).toBeLessThan(1e-5 * Math.abs(onehot.loss));
    for (const key of ["model.language_model.embed_tokens.weight", "model.visual.merger.down_proj.weight"]) {
      const a = take.named.get(key)!.data;
      const b = onehot.named.get(key)!.data;
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
        maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      }
      expect(maxAbs, `${key} gradient is not trivially 0`).toBeGreaterThan(1e-4);
      expect(maxDiff, key).toBeLessThan(1e-5 * maxAbs);
    }
    disposeAll(params);
  });
});

describe("trainer core on a toy batch", () => {
  /**
   * External memory after a full collection: the native engine's outputs are buffers freed only when collected,
   * so without one the figure measures the collector's lag (55 MB once on CI), not a leak.
   */
  const settledExternal = () => {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
    return process.memoryUsage().external;
  };

  it("drives the loss down without leaking arrays or memory", async () => {
    const cfg = presetConfig("tiny"); // 668,608 parameters
    const toy = toyBatch(cfg, 4, 16);
    const batch = buildTrainBatch(cfg, toy, toy.lossMask);
    const core = createTrainerCore(cfg, initParams(cfg, 0));
    const adamw = AdamWConfig.parse({});
    const losses: number[] = [];
    let leaves = 0;
    let externalAfterWarmup = 0;
    for (let i = 0; i < 200; i++) {
      const old = [core.params.text.embed, core.params.vision.blocks[0]!.qkv];
      losses.push((await core.forwardBackwardRows(tree.ref(batch), { kind: "cross_entropy" })).loss);
      await core.optimStep(3e-3, adamw);
      for (const a of old) expect(a.refCount).toBe(0); // the step consumed the old weights
      if (i === 0) leaves = totalRefCount(core.params);
      if (i === 10) externalAfterWarmup = settledExternal();
    }
    expect(totalRefCount(core.params)).toBe(leaves); // same number of live arrays, each held once
    const growth = settledExternal() - externalAfterWarmup;
    expect(growth).toBeLessThan(16e6); // a leaked params copy per step would be ≥ 2.7 MB × 190
    expect(losses[0]).toBeGreaterThan(4);
    expect(losses.at(-1)!).toBeLessThan(0.2 * losses[0]!);
    core.dispose();
    disposeAll(batch);
  }, 120_000);
});
