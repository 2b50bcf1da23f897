import { numpy as np, tree } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSftExample } from "../../src/data/task-encoding.ts";
import { buildSuite } from "../../src/data/tasks/suite.ts";
import { type GlmvConfig, presetConfig } from "../../src/model/config.ts";
import type { EncodedExample } from "../../src/model/encode.ts";
import { buildInputs, forwardLogits } from "../../src/model/model.ts";
import {
  alignToTargets,
  layoutPacked,
  packedInputs,
  packedMask,
  packedTargets,
} from "../../src/model/packed-inputs.ts";
import { type GlmvParams, initParams } from "../../src/model/params.ts";
import { tokenLogprobs } from "../../src/model/policy-loss.ts";
import { loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { isGlmvError } from "../../src/util/errors.ts";

let cfg: GlmvConfig;
let params: GlmvParams;
let examples: EncodedExample[];

beforeAll(async () => {
  await initTensorEngine();
  cfg = presetConfig("tiny");
  // a wide init spreads the logits, so a wrong mask or position shows up well above 1e-4
  params = initParams(cfg, 7, 0.3);
  const tok = await loadTinyTokenizer();
  const items = buildSuite({ seed: 5, perFamily: 1, families: ["counting", "chart", "gui"], split: "train" });
  examples = items.map((it) => encodeSftExample({ cfg, tok, style: "4.1v" }, it, "4.1v"));
});

afterAll(() => {
  if (params) tree.dispose(params);
});

/** Per-token logprobs of each sequence run alone in its own row (the reference). */
function aloneLogprobs(ex: EncodedExample, model = { cfg, params }): number[] {
  const { cfg, params } = model;
  const { inputs } = buildInputs(cfg, { tokens: [ex.ids], imageGridThw: ex.grids, pixels: ex.pixels });
  const targets = np.array(Int32Array.from([...ex.ids.slice(1), 0]), {
    shape: [1, ex.ids.length],
    dtype: np.int32,
  });
  const lp = tokenLogprobs(forwardLogits(tree.ref(params), inputs, cfg), targets);
  return Array.from(lp.dataSync() as Float32Array).slice(0, ex.ids.length - 1);
}

describe("packed rows", () => {
  it("give the same per-token logprobs as the sequences one per row (within 1e-4)", () => {
    const [a, b, c] = examples as [EncodedExample, EncodedExample, EncodedExample];
    const shape = { rows: 2, context: 192, imageSlots: 4 }; // one filler image slot
    const layout = layoutPacked(cfg, [[a, b], [c]], shape, 0);
    const inputs = packedInputs(cfg, layout);
    const targets = np.array(packedTargets(layout), { shape: [2, 192], dtype: np.int32 });
    const packed = Array.from(
      tokenLogprobs(forwardLogits(tree.ref(params), inputs, cfg), targets).dataSync() as Float32Array,
    );
    let maxDiff = 0;
    const segments = [[a, b], [c]];
    for (const [r, rowPlaces] of layout.places.entries())
      for (const [k, p] of rowPlaces.entries()) {
        const ref = aloneLogprobs(segments[r]![k]!);
        for (let i = 0; i < ref.length; i++)
          maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - packed[r * 192 + p.start + i]!));
        expect(ref.some((x) => x < -1)).toBe(true); // not a trivially flat model
      }
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it("differ when the second sequence simply follows the first (the mask and positions matter)", () => {
    const [a, b] = examples as [EncodedExample, EncodedExample];
    const ids = [...a.ids, ...b.ids];
    const pixels = new Float32Array([...a.pixels, ...b.pixels]);
    const { inputs } = buildInputs(cfg, { tokens: [ids], imageGridThw: [...a.grids, ...b.grids], pixels });
    const targets = np.array(Int32Array.from([...ids.slice(1), 0]), {
      shape: [1, ids.length],
      dtype: np.int32,
    });
    const plain = Array.from(
      tokenLogprobs(forwardLogits(tree.ref(params), inputs, cfg), targets).dataSync() as Float32Array,
    );
    const ref = aloneLogprobs(b);
    const diff = Math.max(...ref.map((x, i) => Math.abs(x - plain[a.ids.length + i]!)));
    expect(diff).toBeGreaterThan(1e-2);
  });
});

describe("packed rows with an explicit head dim (GLM-4.5V style, headDim ≠ hidden/heads)", () => {
  it("build 48-wide rope tables and match the sequences one per row", () => {
    // tiny-moe shares the tiny vision tower and token ids, so the tiny-encoded examples fit it
    const moeCfg = presetConfig("tiny-moe", { text: { headDim: 48, mropeSection: [2, 5, 5] } });
    const moeParams = initParams(moeCfg, 7, 0.3);
    try {
      const [a, b, c] = examples as [EncodedExample, EncodedExample, EncodedExample];
      const layout = layoutPacked(moeCfg, [[a, b], [c]], { rows: 2, context: 192, imageSlots: 4 }, 0);
      const inputs = packedInputs(moeCfg, layout);
      expect(inputs.rope.cos.shape).toEqual([2, 192, 1, 48]);
      expect(inputs.rope.rotate.shape).toEqual([48, 48]);
      const targets = np.array(packedTargets(layout), { shape: [2, 192], dtype: np.int32 });
      const logits = forwardLogits(tree.ref(moeParams), inputs, moeCfg);
      const packed = Array.from(tokenLogprobs(logits, targets).dataSync() as Float32Array);
      const segments = [[a, b], [c]];
      let maxDiff = 0;
      for (const [r, rowPlaces] of layout.places.entries())
        for (const [k, p] of rowPlaces.entries()) {
          const ref = aloneLogprobs(segments[r]![k]!, { cfg: moeCfg, params: moeParams });
          for (let i = 0; i < ref.length; i++)
            maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - packed[r * 192 + p.start + i]!));
        }
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      tree.dispose(moeParams);
    }
  });
});

describe("layout", () => {
  it("targets stay inside a segment and values align with the predicted token", () => {
    const seg = (ids: number[]) => ({ ids });
    const layout = layoutPacked(
      cfg,
      [[seg([1, 2, 3]), seg([4, 5])]],
      { rows: 1, context: 7, imageSlots: 0 },
      0,
    );
    expect(Array.from(packedTargets(layout))).toEqual([2, 3, 0, 5, 0, 0, 0]);
    expect(
      Array.from(
        alignToTargets(layout, [
          [
            [0, 1, 1],
            [0, 1],
          ],
        ]),
      ),
    ).toEqual([1, 1, 0, 1, 0, 0, 0]);
    expect(layout.positions[0]![0]).toEqual([0, 1, 2, 0, 1, 0, 0]);
  });

  it("treats <|image|> after mediaEnd (a sampled response) as plain text with sequential positions", () => {
    const ex = examples[0]!;
    const img = cfg.tokens.imageTokenId;
    const ids = [...ex.ids.slice(0, ex.promptTokens), img, 5, img];
    const shape = { rows: 1, context: 192, imageSlots: 1 };
    const layout = layoutPacked(cfg, [[{ ...ex, ids, mediaEnd: ex.promptTokens }]], shape, 0);
    const p = ex.promptTokens;
    expect(layout.placeholder[0]!.filter(Boolean)).toHaveLength(4);
    expect(layout.placeholder[0]!.slice(p, p + 3)).toEqual([false, false, false]);
    const last = Math.max(...layout.positions[0]!.map((c) => c[p - 1]!));
    for (const c of layout.positions[0]!) expect(c.slice(p, p + 3)).toEqual([last + 1, last + 2, last + 3]);
    const inputs = packedInputs(cfg, layout); // counts still match: 4 placeholders, 4 features
    tree.dispose(inputs);
  });

  it("masks block-diagonally; padding sees only itself", () => {
    const m = packedMask([[0, 0, 1, -1]]);
    const row = (i: number) => m.slice(i * 4, i * 4 + 4);
    expect(row(1)).toEqual([true, true, false, false]);
    expect(row(2)).toEqual([false, false, true, false]);
    expect(row(3)).toEqual([false, false, false, true]);
  });

  it("rejects overflowing rows and too many images", () => {
    const tryLayout = (f: () => unknown) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return isGlmvError(e) ? e.code : "other";
      }
    };
    expect(
      tryLayout(() => layoutPacked(cfg, [[{ ids: [1, 2, 3] }]], { rows: 1, context: 2, imageSlots: 0 }, 0)),
    ).toBe("bad_input");
    expect(
      tryLayout(() => layoutPacked(cfg, [[examples[0]!]], { rows: 1, context: 192, imageSlots: 0 }, 0)),
    ).toBe("bad_input");
  });
});
