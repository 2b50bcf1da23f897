import { tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeSftExample } from "../../data/task-encoding.ts";
import { buildSuite } from "../../data/tasks/suite.ts";
import type { TaskItem } from "../../data/tasks/types.ts";
import { type GlmvConfig, presetConfig } from "../../model/config.ts";
import { moeLayerIndices } from "../../model/moe-balance.ts";
import { initParams, type MoeLayerParams } from "../../model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../../model/tokenizer.ts";
import { initTensorEngine } from "../../tensor/engine.ts";
import { LocalPolicy } from "../engines/local/local-policy.ts";
import { runSft, type SftStepLog, sftBatch } from "./sft.ts";

let cfg: GlmvConfig;
let tok: GlmvTokenizer;

beforeAll(async () => {
  await initTensorEngine();
  cfg = presetConfig("tiny");
  tok = await loadTinyTokenizer();
});

describe("sftBatch", () => {
  it("puts loss weight only on response predictions, summing to 1, none on padding", () => {
    const items = buildSuite({ seed: 1, perFamily: 1, families: ["counting", "math"], split: "train" });
    const enc = { cfg, tok, style: "4.1v" as const };
    const examples = items.map((it) => encodeSftExample(enc, it, "4.1v"));
    const shape = { rows: 2, context: 128, imageSlots: 2 };
    const { batch, tokens } = sftBatch({ cfg }, examples, [[0, 1], []], shape);
    const w = batch.weights.ref.dataSync() as Float32Array;
    const targets = batch.targets.ref.dataSync() as Int32Array;
    const responses = examples.reduce((a, e) => a + e.lossMask.reduce((x, y) => x + y, 0), 0);
    expect(w.filter((x) => x > 0).length).toBe(responses);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(tokens).toBe(examples[0]!.ids.length + examples[1]!.ids.length);
    // the second row is all padding: no weight at all
    expect(w.slice(128).every((x) => x === 0)).toBe(true);
    // the weighted targets are exactly the response tokens, in order
    const learnt = Array.from(targets).filter((_, i) => w[i]! > 0);
    const expected = examples.flatMap((e) => e.ids.filter((_, i) => e.lossMask[i] === 1));
    expect(learnt).toEqual(expected);
    tree.dispose(batch);
  });
});

describe("runSft", () => {
  it("learns the response format on the tiny preset: held-out responses pass the format gate", async () => {
    const families = ["counting", "math"] as const;
    const train: TaskItem[] = buildSuite({
      seed: 3,
      families: [...families],
      perFamily: 300,
      split: "train",
    });
    const heldout = buildSuite({ seed: 3, families: [...families], perFamily: 16, split: "heldout" });
    const policy = new LocalPolicy(cfg, initParams(cfg, 3), tok, { batchSize: 32, promptLen: 40 });
    try {
      const losses: number[] = [];
      const result = await runSft(
        policy,
        train,
        heldout,
        {
          steps: 30,
          rows: 8,
          context: 128,
          imageSlots: 24,
          lr: 3e-3,
          warmupSteps: 5,
          seed: 3,
          evalMaxNewTokens: 32,
        },
        { onStep: (l) => losses.push(l.loss) },
      );
      expect(losses).toHaveLength(30);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! / 4);
      expect(result.fill).toBeGreaterThan(0.8);
      const report = result.evals.at(-1)!.report;
      expect(report.n).toBe(32);
      expect(report.formatOk).toBeGreaterThan(0.9);
    } finally {
      policy.dispose();
    }
  }, 180_000);
});

describe("runSft on tiny-moe (GLM-4.5V layout)", () => {
  const moeCfg = presetConfig("tiny-moe");
  const train = () => buildSuite({ seed: 5, families: ["counting", "math"], perFamily: 60, split: "train" });
  const settings = { rows: 3, context: 128, imageSlots: 12, lr: 3e-3, warmupSteps: 2, seed: 5 };
  const biases = (policy: LocalPolicy) =>
    moeLayerIndices(moeCfg).map((l) =>
      Array.from(
        (policy.params.text.layers[l] as MoeLayerParams).correctionBias.ref.dataSync() as Float32Array,
      ),
    );
  /** SFT `steps` steps with bias rate `u`; the step logs and the final correction biases per MoE layer. */
  const run = async (steps: number, u: number, extra: { lr?: number; minLr?: number } = {}) => {
    const policy = new LocalPolicy(moeCfg, initParams(moeCfg, 5), tok, { batchSize: 4, promptLen: 40 });
    try {
      const logs: SftStepLog[] = [];
      await runSft(
        policy,
        train(),
        [],
        { ...settings, ...extra, steps, moeBalance: { biasUpdateRate: u } },
        { onStep: (l) => logs.push(l) },
      );
      return { logs, bias: biases(policy) };
    } finally {
      policy.dispose();
    }
  };

  it("sftBatch marks the real tokens of a MoE batch (padding excluded)", () => {
    const items = train().slice(0, 2);
    const enc = { cfg: moeCfg, tok, style: "4.1v" as const };
    const examples = items.map((it) => encodeSftExample(enc, it, "4.1v"));
    const { batch, tokens } = sftBatch({ cfg: moeCfg }, examples, [[0], [1]], {
      rows: 2,
      context: 128,
      imageSlots: 2,
    });
    const valid = batch.valid!.ref.dataSync() as Float32Array;
    expect(valid.reduce((a, b) => a + b, 0)).toBe(tokens);
    expect(valid.slice(0, examples[0]!.ids.length).every((v) => v === 1)).toBe(true);
    expect(valid[examples[0]!.ids.length]).toBe(0);
    tree.dispose(batch);
  });

  it("moves each layer's correction bias by u·sign(mean − load) per step and logs per-layer load", async () => {
    const u = 1e-2;
    const { logs, bias } = await run(5, u);
    expect(logs).toHaveLength(5);
    const e = moeCfg.text.moe!.numExperts;
    const k = moeCfg.text.moe!.topK;
    const want = bias.map(() => new Array<number>(e).fill(0));
    for (const log of logs) {
      expect(log.expertLoad!.map((s) => s.layer)).toEqual([1, 2]);
      expect(log.auxLoss).toBeGreaterThan(0);
      for (const [j, s] of log.expertLoad!.entries()) {
        // every real token (no padding) sends k assignments
        expect(s.load.reduce((a, b) => a + b, 0)).toBe(Math.round(log.fill * 3 * 128) * k);
        const mean = s.load.reduce((a, b) => a + b, 0) / e;
        expect(s.maxOverMean).toBeCloseTo(Math.max(...s.load) / mean, 6);
        // over-loaded experts lose u, under-loaded ones gain it: the bias pushes towards an even load
        s.load.forEach((x, i) => {
          want[j]![i]! += u * Math.sign(mean - x);
        });
      }
    }
    bias.forEach((b, j) => {
      b.forEach((v, i) => {
        expect(v).toBeCloseTo(want[j]![i]!, 5);
      });
      expect(b.some((v) => v !== 0)).toBe(true);
    });
  }, 60_000);

  it("with the weights held still, the bias update alone evens the load; u = 0 leaves the bias at zero", async () => {
    // lr ≈ 0: the router does not learn, so any change in the load comes from the correction bias
    const held = { lr: 1e-9, minLr: 0 };
    const frozen = await run(10, 0, held);
    const moving = await run(10, 5e-3, held);
    expect(frozen.bias.flat().every((v) => v === 0)).toBe(true);
    const tail = (logs: SftStepLog[], j: number) =>
      logs.slice(-3).reduce((a, l) => a + l.expertLoad![j]!.maxOverMean, 0) / 3;
    for (const j of [0, 1]) expect(tail(moving.logs, j)).toBeLessThan(tail(frozen.logs, j) * 0.8);
  }, 90_000);
});
