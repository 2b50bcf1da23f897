/**
 * The trainer core as a user gets it (the native backend wherever onnxruntime-node loads) against the step written
 * plainly in jax-js: equal within float tolerance, since the native kernels sum in another order.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Array as JaxArray, jit, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdamWConfig } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { isGlmvError } from "../util/errors.ts";
import { mulberry32 } from "../util/rng.ts";
import { type GlmvConfig, presetConfig } from "./config.ts";
import { buildTrainBatch, type ModelOptState, modelLoss, type TrainBatch } from "./model.ts";
import { MoeBalanceConfig, moeLayerIndices, tokenValidity } from "./moe-balance.ts";
import { type GlmvParams, initParams, type MoeLayerParams } from "./params.ts";
import { createTrainerCore } from "./trainer-core.ts";
import { OPTIMIZER_FILE } from "./trainer-core-config.ts";
import { referenceGradient, referenceStep, relativeDiff, treeDiff } from "./trainer-reference.fixture.ts";

let dir = "";
beforeAll(async () => {
  await initTensorEngine();
  dir = await mkdtemp(join(tmpdir(), "glmv-core-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Seeded text rows [b, s] with the loss on the second half of each row (the last row ends in padding). */
function textBatch(cfg: GlmvConfig, seed: number, b = 2, s = 16): TrainBatch {
  const rand = mulberry32(seed);
  const tokens = Array.from({ length: b }, () =>
    Array.from({ length: s }, () => 3 + Math.floor(rand() * 90)),
  );
  const attentionMask = tokens.map((row, r) => row.map((_, i) => (r === b - 1 && i >= s - 3 ? 0 : 1)));
  const lossMask = tokens.map((row, r) => row.map((_, i) => (i >= s / 2 ? attentionMask[r]![i]! : 0)));
  return buildTrainBatch(cfg, { tokens, attentionMask }, lossMask);
}

const ADAMW = AdamWConfig.parse({ weightDecay: 0.01, clipNorm: 1 });

describe("trainer core, dense: cross_entropy equals the step written plainly", () => {
  it("gives the loss and gradient of valueAndGrad(modelLoss), and after AdamW the same grad norm and weights over two steps", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 1));
    let refParams = initParams(cfg, 1);
    let refOpt: ModelOptState | undefined;
    // gradient: the model's masked cross-entropy on the same rows and weights (jitted, as the core's)
    const refGradFn = jit((p: GlmvParams, b: TrainBatch) =>
      valueAndGrad((q: GlmvParams) => modelLoss(q, b, cfg))(p),
    );
    for (const seed of [11, 12]) {
      const [refLoss, refGrads] = refGradFn(tree.ref(refParams), textBatch(cfg, seed)) as [
        JaxArray,
        GlmvParams,
      ];
      const fb = await core.forwardBackwardRows(textBatch(cfg, seed), { kind: "cross_entropy" });
      expect(relativeDiff(fb.loss, (await refLoss.jsAsync()) as number)).toBeLessThan(2e-5);
      expect(treeDiff(tree.ref(core.gradients()!), tree.ref(refGrads))).toBeLessThan(5e-5);
      const ref = await referenceStep(cfg, refParams, refGrads, [], {
        lr: 3e-3,
        adamw: ADAMW,
        ...(refOpt ? { opt: refOpt } : {}),
      });
      refParams = ref.params;
      refOpt = ref.opt;
      const { gradNorm } = await core.optimStep(3e-3, ADAMW);
      expect(relativeDiff(gradNorm, ref.gradNorm)).toBeLessThan(2e-5);
      expect(treeDiff(tree.ref(core.params), tree.ref(refParams))).toBeLessThan(5e-5);
    }
    refGradFn.dispose();
    tree.dispose([refParams, refOpt]);
    core.dispose();
  }, 60_000);

  it("accumulates: two forwardBackward calls before a step give the sum of their gradients", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 2));
    const single = async (seed: number) => {
      const c = createTrainerCore(cfg, initParams(cfg, 2));
      await c.forwardBackwardRows(textBatch(cfg, seed), { kind: "cross_entropy" });
      const g = tree.ref(c.gradients()!);
      c.dispose();
      return g;
    };
    await core.forwardBackwardRows(textBatch(cfg, 21), { kind: "cross_entropy" });
    await core.forwardBackwardRows(textBatch(cfg, 22), { kind: "cross_entropy" });
    const sum = tree.map((x: JaxArray, y: JaxArray) => x.add(y), await single(21), await single(22));
    expect(treeDiff(tree.ref(core.gradients()!), sum as GlmvParams)).toBeLessThan(1e-5);
    await core.optimStep(1e-3, ADAMW);
    expect(core.gradients()).toBeUndefined(); // the step consumed them
    expect((await core.optimStep(1e-3, ADAMW)).gradNorm).toBe(0); // nothing accumulated: no step
    core.dispose();
  }, 60_000);

  it("refuses a policy loss without old logprobs and advantages (bad_input)", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 3));
    const batch = textBatch(cfg, 5);
    const err = await core
      .forwardBackwardRows(batch, { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 })
      .catch((e: unknown) => e);
    expect(
      isGlmvError(err) && err.code === "bad_input" && /oldLogprobs and advantages/.test(err.message),
    ).toBe(true);
    tree.dispose(batch);
    core.dispose();
  });
});

describe("trainer core, glm4v_moe: cross_entropy equals the step written plainly", () => {
  it("same LM and balance losses, loads, grad norm, weights and correction bias after each of two steps", async () => {
    const cfg = presetConfig("tiny-moe");
    const balance = MoeBalanceConfig.parse({ biasUpdateRate: 1e-2, auxLossCoef: 1e-2 });
    const core = createTrainerCore(cfg, initParams(cfg, 4), { moeBalance: balance });
    let refParams = initParams(cfg, 4);
    let refOpt: ModelOptState | undefined;
    const layers = moeLayerIndices(cfg);
    const biasOf = (p: GlmvParams) =>
      layers.map((l) =>
        Array.from((p.text.layers[l] as MoeLayerParams).correctionBias.ref.dataSync() as Float32Array),
      );
    for (const seed of [31, 32]) {
      const fb = await core.forwardBackwardRows(textBatch(cfg, seed), { kind: "cross_entropy" });
      // the attention mask gives validity here (no packed layout), as the core's default does
      const rows = textBatch(cfg, seed);
      const ref = await referenceGradient(
        cfg,
        refParams,
        { ...rows, valid: tokenValidity(rows.inputs.mask.ref) },
        { kind: "cross_entropy" },
        { auxLossCoef: balance.auxLossCoef },
      );
      expect(relativeDiff(fb.loss, ref.loss)).toBeLessThan(2e-5);
      expect(fb.auxLoss).toBeCloseTo(ref.auxLoss, 6);
      expect(fb.auxLoss).toBeGreaterThan(0);
      expect(fb.loads).toEqual(ref.loads);
      const step = await referenceStep(cfg, refParams, ref.grads, ref.loads, {
        lr: 3e-3,
        adamw: ADAMW,
        biasUpdateRate: balance.biasUpdateRate,
        ...(refOpt ? { opt: refOpt } : {}),
      });
      refParams = step.params;
      refOpt = step.opt;
      const { gradNorm } = await core.optimStep(3e-3, ADAMW);
      expect(relativeDiff(gradNorm, step.gradNorm)).toBeLessThan(2e-5);
      // the loss-free bias update moved the bias (the core in float32, the reference on the host)
      const bias = biasOf(core.params);
      biasOf(refParams).forEach((want, j) => {
        want.forEach((v, e) => {
          expect(bias[j]![e]!).toBeCloseTo(v, 7);
        });
      });
      expect(bias.flat().some((b) => b !== 0)).toBe(true);
      expect(treeDiff(tree.ref(core.params), tree.ref(refParams))).toBeLessThan(1e-4);
    }
    tree.dispose([refParams, refOpt]);
    core.dispose();
  }, 120_000);
});

describe("trainer core: save and load", () => {
  it("round-trips weights; the optimiser state only when asked for", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 6));
    await core.forwardBackwardRows(textBatch(cfg, 41), { kind: "cross_entropy" });
    await core.optimStep(1e-2, ADAMW);
    const saved = join(dir, "step1");
    await core.save(saved);
    expect((await stat(join(saved, OPTIMIZER_FILE))).isFile()).toBe(true);

    // continuing from the folder with its optimiser state takes the same second step as the core that saved it
    const resumed = createTrainerCore(cfg, initParams(cfg, 99));
    await resumed.load(saved, { optimizer: true });
    expect(treeDiff(tree.ref(resumed.params), tree.ref(core.params))).toBe(0);
    const fresh = createTrainerCore(cfg, initParams(cfg, 99));
    await fresh.load(saved, { optimizer: false });
    for (const c of [core, resumed, fresh]) {
      await c.forwardBackwardRows(textBatch(cfg, 42), { kind: "cross_entropy" });
      await c.optimStep(1e-2, ADAMW);
    }
    expect(treeDiff(tree.ref(resumed.params), tree.ref(core.params))).toBeLessThan(1e-6);
    // without the optimiser state the second step is a first AdamW step: different weights
    expect(treeDiff(tree.ref(fresh.params), tree.ref(core.params))).toBeGreaterThan(1e-4);
    for (const c of [core, resumed, fresh]) c.dispose();
  }, 60_000);

  it("a policy loss reads its old logprobs: ppo on fresh samples has ratio 1, so loss = −Σ w·A", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 7));
    const batch = textBatch(cfg, 51);
    const lp = await core.logprobsRows({ inputs: textBatch(cfg, 51).inputs, targets: batch.targets.ref });
    const w = (await batch.weights.ref.data()) as Float32Array;
    const adv = Float32Array.from(w, (_, i) => (i % 3) - 1);
    const fb = await core.forwardBackwardRows(
      {
        ...batch,
        oldLogprobs: np.array(lp, { shape: batch.targets.shape }),
        advantages: np.array(adv, { shape: batch.targets.shape }),
      },
      { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 },
    );
    const expected = -w.reduce((a, wi, i) => a + wi * adv[i]!, 0);
    expect(fb.loss).toBeCloseTo(expected, 5);
    expect(fb.clipFraction).toBe(0);
    for (let i = 0; i < lp.length; i++) expect(Math.abs(fb.logprobs[i]! - lp[i]!)).toBeLessThan(1e-5);
    core.dispose();
  }, 60_000);
});
