/**
 * GLM-4.5V states its head dim (128 with 96 heads, ≠ 4096/96): a tiny-moe variant with headDim 48 ≠ 128/4 must
 * build inputs, generate and decode with 48-wide heads everywhere (rope tables, KV cache, q/k/v/o projections).
 */
import { tree } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { type GlmvConfig, presetConfig, textHeadDim, textRotaryDim } from "./config.ts";
import { expectedTensors } from "./config-tensors.ts";
import { createGenerator } from "./generate.ts";
import { buildInputs, forwardLogits, textRopeArrays } from "./model.ts";
import { type GlmvParams, initParams, paramsToNamed } from "./params.ts";
import { argmax, logSoftmax } from "./sampling.ts";

const V = 64;
let cfg: GlmvConfig;
let params: GlmvParams;

beforeAll(async () => {
  await initTensorEngine();
  // 48-wide heads, 24 rotary dims → 12 frequency slots
  cfg = presetConfig("tiny-moe", { text: { vocabSize: V, headDim: 48, mropeSection: [2, 5, 5] } });
  params = initParams(cfg, 5, 0.3);
});

afterAll(() => {
  if (params) tree.dispose(params);
});

describe("a config whose headDim is not hidden/heads", () => {
  it("has 48-wide heads: q_proj [heads·48, hidden], rope tables [B, S, 1, 48]", () => {
    expect(textHeadDim(cfg.text)).toBe(48);
    expect(cfg.text.hiddenSize / cfg.text.numHeads).toBe(32);
    expect(textRotaryDim(cfg.text)).toBe(24);
    const q = paramsToNamed(params).get("model.language_model.layers.0.self_attn.q_proj.weight");
    expect(q?.shape).toEqual([4 * 48, 128]);
    const { inputs } = buildInputs(cfg, { tokens: [[1, 2, 3]] });
    expect(inputs.rope.cos.shape).toEqual([1, 3, 1, 48]);
    expect(inputs.rope.rotate.shape).toEqual([48, 48]);
    tree.dispose(inputs);
    const rope = textRopeArrays(cfg.text, [
      [
        [0, 1],
        [0, 1],
        [0, 1],
      ],
      [
        [4, 5],
        [4, 5],
        [4, 5],
      ],
    ]);
    expect(rope.sin.shape).toEqual([2, 2, 1, 48]);
    tree.dispose(rope);
  });

  it("generates with the KV cache exactly what greedy full recomputation picks", async () => {
    const prompts = [
      [5, 9, 17, 33, 2, 40, 11, 7],
      [3, 30, 12, 8, 21, 6, 44, 19],
    ];
    const steps = 6;
    const gen = createGenerator(cfg, { batchSize: 2, promptLen: 8, maxNewTokens: steps });
    try {
      const out = await gen.generate(params, { prompts }, { temperature: 0 });
      const seqs = prompts.map((p) => [...p]);
      const wantLogprobs: number[][] = [[], []];
      for (let i = 0; i < steps; i++) {
        const { inputs } = buildInputs(cfg, { tokens: seqs });
        const logits = forwardLogits(tree.ref(params), inputs, cfg);
        const host = logits.dataSync() as Float32Array;
        const s = seqs[0]!.length;
        seqs.forEach((seq, r) => {
          const row = host.subarray((r * s + s - 1) * V, (r * s + s) * V);
          const next = argmax(row);
          wantLogprobs[r]!.push(logSoftmax(row)[next]!);
          seq.push(next);
        });
      }
      expect(out.tokens).toEqual(seqs.map((s) => s.slice(8)));
      for (const [r, row] of out.logprobs.entries())
        for (const [i, lp] of row.entries()) expect(lp).toBeCloseTo(wantLogprobs[r]![i]!, 3);
    } finally {
      gen.dispose();
    }
  });
});

describe("a dense (4.1V-layout) config with an explicit head dim", () => {
  it("lists q/o projections of heads·headDim and runs a forward pass", () => {
    const dense = presetConfig("tiny", { text: { vocabSize: V, headDim: 48, mropeSection: [2, 5, 5] } });
    const shapes = new Map(expectedTensors(dense).map((s) => [s.key, s.shape]));
    const L = "model.language_model.layers.1.self_attn.";
    expect(shapes.get(`${L}q_proj.weight`)).toEqual([192, 128]);
    expect(shapes.get(`${L}k_proj.weight`)).toEqual([96, 128]);
    expect(shapes.get(`${L}o_proj.weight`)).toEqual([128, 192]);
    const p = initParams(dense, 1, 0.3);
    const { inputs } = buildInputs(dense, { tokens: [[1, 2, 3, 4]] });
    const logits = forwardLogits(p, inputs, dense);
    expect(logits.shape).toEqual([1, 4, V]);
    expect(Array.from(logits.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
  });
});
