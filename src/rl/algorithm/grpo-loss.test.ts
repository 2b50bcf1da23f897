import { grad, type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeSftExample } from "../../data/task-encoding.ts";
import { buildSuite } from "../../data/tasks/suite.ts";
import { type GlmvConfig, presetConfig } from "../../model/config.ts";
import type { EncodedExample } from "../../model/encode.ts";
import { buildInputs } from "../../model/model.ts";
import {
  alignToTargets,
  layoutPacked,
  packedInputs,
  packedTargets,
  segmentValidity,
} from "../../model/packed-inputs.ts";
import type { TrainRows } from "../../model/packed-rows.ts";
import { initParams } from "../../model/params.ts";
import { clippedSurrogate } from "../../model/policy-loss.ts";
import { loadTinyTokenizer } from "../../model/tokenizer.ts";
import { createTrainerCore } from "../../model/trainer-core.ts";
import {
  referenceGradient,
  referenceStep,
  relativeDiff,
  treeDiff,
} from "../../model/trainer-reference.fixture.ts";
import { AdamWConfig } from "../../tensor/adamw.ts";
import { initTensorEngine } from "../../tensor/engine.ts";
import { lossWeights } from "./grpo-loss.ts";

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

describe("GRPO step on the tiny model (through the trainer core)", () => {
  it("raises the log-probability of a positively rewarded sample and lowers a negative one", async () => {
    const cfg = presetConfig("tiny");
    const core = createTrainerCore(cfg, initParams(cfg, 1));
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
    const targetArray = () => np.array(targets.flat(), { shape: [2, 6], dtype: np.int32 });
    const makeBatch = (oldLogprobs: Float32Array): TrainRows => ({
      inputs: buildInputs(cfg, { tokens }).inputs,
      targets: targetArray(),
      oldLogprobs: np.array(oldLogprobs, { shape: [2, 6] }),
      advantages: np.array([1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1], { shape: [2, 6] }),
      weights: np.array(lossWeights(targetMask, "sample").flat(), { shape: [2, 6] }),
    });
    const logprobsNow = () =>
      core.logprobsRows({ inputs: buildInputs(cfg, { tokens }).inputs, targets: targetArray() });
    const before = await logprobsNow();
    const adamw = AdamWConfig.parse({ weightDecay: 0 });
    for (let i = 0; i < 5; i++) {
      await core.forwardBackwardRows(makeBatch(before), { kind: "ppo", clipLow: 0.2, clipHigh: 0.28 });
      await core.optimStep(1e-2, adamw);
    }
    const after = await logprobsNow();
    const sum = (lp: Float32Array, r: number) => lp[r * 6 + 2]! + lp[r * 6 + 3]!;
    expect(sum(after, 0)).toBeGreaterThan(sum(before, 0));
    expect(sum(after, 1)).toBeLessThan(sum(before, 1));
    core.dispose();
  });
});

/**
 * Three task sequences with their images, packed two and one into rows of 192 (one filler image slot): GRPO
 * arrays over the response tokens (old logprobs nudged off the policy's so some ratios clip) and, for MoE, which
 * slots are real.
 */
async function packedRows(cfg: GlmvConfig) {
  const tok = await loadTinyTokenizer();
  const items = buildSuite({ seed: 5, perFamily: 1, families: ["counting", "chart", "gui"], split: "train" });
  const ex = items.map((it) => encodeSftExample({ cfg, tok, style: "4.1v" }, it, "4.1v"));
  const rows = [[ex[0]!, ex[1]!], [ex[2]!]];
  const layout = layoutPacked(cfg, rows, { rows: 2, context: 192, imageSlots: 4 }, 0);
  const weights = lossWeights(
    ex.map((e) => e.lossMask),
    "sample",
  );
  const per = (f: (e: EncodedExample, i: number) => number[]) => [
    [f(ex[0]!, 0), f(ex[1]!, 1)],
    [f(ex[2]!, 2)],
  ];
  const shape = [2, 192];
  const arr = (values: number[][][]) => np.array(alignToTargets(layout, values), { shape });
  const old = (e: EncodedExample, i: number) => e.ids.map((_, j) => -4 + 0.15 * ((i + j) % 5));
  return (): TrainRows & { valid: JaxArray } => ({
    inputs: packedInputs(cfg, layout),
    targets: np.array(packedTargets(layout), { shape, dtype: np.int32 }),
    weights: arr(per((_, i) => weights[i]!)),
    oldLogprobs: arr(per(old)),
    advantages: arr(per((e, i) => e.ids.map(() => [1, -1, 0.5][i]!))),
    valid: segmentValidity(layout),
  });
}

const CLIP = { clipLow: 0.2, clipHigh: 0.28 };
const ADAMW = AdamWConfig.parse({ weightDecay: 0.01, clipNorm: 1 });

describe("trainer core on packed rows (with images) equals the step written plainly", () => {
  const cases = [
    { preset: "tiny", loss: { kind: "ppo", ...CLIP } },
    { preset: "tiny-moe", loss: { kind: "ppo", ...CLIP } },
    { preset: "tiny", loss: { kind: "cross_entropy" } },
    { preset: "tiny-moe", loss: { kind: "cross_entropy" } },
  ] as const;
  for (const { preset, loss } of cases)
    it(`${preset} ${loss.kind}: loss, clip fraction, loads, gradient, grad norm and the weights after the step`, async () => {
      const cfg = presetConfig(preset);
      const rows = await packedRows(cfg);
      // MoE: a large α and u so the balance loss and the bias update show; the call carries half the balance loss
      const balance = { auxLossCoef: 1e-2, biasUpdateRate: 1e-2 };
      const auxScale = 0.5;
      const core = createTrainerCore(cfg, initParams(cfg, 8), { moeBalance: balance });
      const fb = await core.forwardBackwardRows(rows(), loss, { auxScale });
      const params = initParams(cfg, 8);
      const ref = await referenceGradient(cfg, params, rows(), loss, {
        auxLossCoef: balance.auxLossCoef,
        auxScale,
      });
      expect(relativeDiff(fb.loss, ref.loss)).toBeLessThan(2e-5);
      expect(fb.clipFraction).toBeCloseTo(ref.clipFraction, 6);
      if (loss.kind === "ppo") expect(fb.clipFraction).toBeGreaterThan(0); // the nudged old logprobs clip some
      if (preset === "tiny-moe") {
        expect(fb.loads).toEqual(ref.loads);
        expect(fb.auxLoss).toBeCloseTo(ref.auxLoss, 7);
        expect(fb.auxLoss).toBeGreaterThan(0);
      }
      expect(treeDiff(tree.ref(core.gradients()!), tree.ref(ref.grads))).toBeLessThan(1e-5);
      const { gradNorm } = await core.optimStep(3e-3, ADAMW);
      const step = await referenceStep(cfg, params, ref.grads, ref.loads, {
        lr: 3e-3,
        adamw: ADAMW,
        biasUpdateRate: balance.biasUpdateRate,
      });
      expect(relativeDiff(gradNorm, step.gradNorm)).toBeLessThan(2e-5);
      tree.dispose(step.opt);
      // the weights after the step, the MoE correction bias included (the core moves it in float32)
      expect(treeDiff(tree.ref(core.params), step.params)).toBeLessThan(5e-5);
      core.dispose();
    }, 120_000);
});
