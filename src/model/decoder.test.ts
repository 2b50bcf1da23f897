import { numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll } from "../tensor/own.ts";
import { presetConfig, textHeadDim } from "./config.ts";
import { type LayerCache, runDecoder } from "./decoder.ts";
import { cacheMask, cacheWriteAt } from "./generate.ts";
import { textRopeArrays } from "./model.ts";
import { initParams } from "./params.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const cfg = presetConfig("tiny", { text: { vocabSize: 32 } });
const t = cfg.text;
const hd = textHeadDim(t);
/** Rope arrays for one row at the given positions (all three M-RoPE components equal, as for text). */
const rope = (positions: number[]) => textRopeArrays(t, [[positions, positions, positions]]);

/** Mask [1, 1, S, T]: query i (absolute position start + i) sees keys j ≤ start + i (no padding). */
const mask = (s: number, total: number, start: number) => cacheMask([[]], start, s, total);

describe("decoder", () => {
  it("prefill + one-token steps through the static KV cache equal the full causal pass", () => {
    const params = initParams(cfg, 2, 0.2);
    const s = 6;
    const x = np.array(
      Float32Array.from({ length: s * t.hiddenSize }, (_, i) => Math.sin(i * 0.37)),
      {
        shape: [1, s, t.hiddenSize],
      },
    );
    const positions = [0, 1, 2, 3, 4, 5];
    const layers = { layers: params.text.layers, norm: params.text.norm };
    const full = runDecoder(tree.ref(layers), x.ref, rope(positions), t, { mask: mask(s, s, 0) });
    const fullData = full.hidden.dataSync();

    let cache: LayerCache[] = layers.layers.map(() => ({
      k: np.zeros([1, s, t.numKvHeads, hd]),
      v: np.zeros([1, s, t.numKvHeads, hd]),
    }));
    const chunks: Float32Array[] = [];
    const prefill = 3;
    const first = runDecoder(
      tree.ref(layers),
      x.ref.slice([], [0, prefill]),
      rope(positions.slice(0, prefill)),
      t,
      {
        mask: mask(prefill, s, 0),
        cache,
        write: cacheWriteAt(0, prefill, s),
      },
    );
    chunks.push(first.hidden.dataSync() as Float32Array);
    cache = first.cache!;
    for (let p = prefill; p < s; p++) {
      const step = runDecoder(tree.ref(layers), x.ref.slice([], [p, p + 1]), rope([p]), t, {
        mask: mask(1, s, p),
        cache,
        write: cacheWriteAt(p, 1, s),
      });
      chunks.push(step.hidden.dataSync() as Float32Array);
      cache = step.cache!;
    }
    const stepwise = chunks.flatMap((c) => Array.from(c));
    expect(stepwise).toHaveLength(fullData.length);
    let maxDiff = 0;
    for (let i = 0; i < stepwise.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(stepwise[i]! - fullData[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    for (const c of cache) expect(c.k.refCount).toBe(1);
    disposeAll(cache, x, params);
  });

  it("consumes params, input, rope and mask", () => {
    const params = initParams(cfg, 1);
    const x = np.ones([1, 2, t.hiddenSize]);
    const r = rope([0, 1]);
    const m = mask(2, 2, 0);
    const layers = { layers: params.text.layers, norm: params.text.norm };
    const out = runDecoder(layers, x, r, t, { mask: m });
    for (const a of [x, r.cos, r.sin, r.rotate, m, params.text.norm, params.text.layers[0]!.qWeight])
      expect(a.refCount).toBe(0);
    expect(out.hidden.refCount).toBe(1);
    disposeAll(out.hidden, params.vision, params.text.embed, params.text.lmHead);
  });
});
