import { numpy as np } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "./engine.ts";
import { attention, crossEntropy, geluExact, layerNorm, linear, rmsNorm, swiGlu } from "./ops.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const arr = (data: number[], shape: number[]) => np.array(new Float32Array(data), { shape });
const read = (x: ReturnType<typeof np.ones>) => Array.from(x.dataSync() as Float32Array);

describe("ops", () => {
  it("rmsNorm scales by rsqrt(mean x² + eps) and the weight; consumes its inputs", () => {
    const x = arr([1, 2, 3, 4], [1, 4]);
    const w = arr([1, 2, 1, 1], [4]);
    const y = read(rmsNorm(x, w, 1e-5));
    const r = 1 / Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-5);
    for (const [i, v] of [1 * r, 4 * r, 3 * r, 4 * r].entries()) expect(y[i]).toBeCloseTo(v, 5);
    expect(x.refCount).toBe(0);
    expect(w.refCount).toBe(0);
  });

  it("layerNorm centres, normalises (biased variance) and applies affine", () => {
    const y = read(layerNorm(arr([1, 3], [1, 2]), arr([2, 2], [2]), arr([0.5, 0.5], [2]), 0));
    expect(y[0]).toBeCloseTo(-1.5, 5);
    expect(y[1]).toBeCloseTo(2.5, 5);
  });

  it("linear uses torch layout [out, in] and adds the bias", () => {
    const y = read(linear(arr([1, 2], [1, 2]), arr([1, 0, 1, 1, 0, 2], [3, 2]), arr([0, 1, 0], [3])));
    expect(y).toEqual([1, 4, 4]);
  });

  it("geluExact is the erf form, not the tanh approximation", () => {
    const y = read(geluExact(arr([1, -2], [2])));
    expect(y[0]).toBeCloseTo(0.8413447, 6);
    expect(y[1]).toBeCloseTo(-0.0455003, 6);
  });

  it("swiGlu = down(silu(gate x) ⊙ up x)", () => {
    const y = read(swiGlu(arr([2], [1, 1]), arr([1], [1, 1]), arr([3], [1, 1]), arr([0.5], [1, 1])));
    const silu2 = 2 / (1 + Math.exp(-2));
    expect(y[0]).toBeCloseTo(0.5 * silu2 * 6, 5);
  });

  it("attention respects the mask and shares kv heads across query groups", () => {
    // B=1, S=T=2, H=2 query heads, K=1 kv head, D=1
    const q = arr([1, 1, 1, 1], [1, 2, 2, 1]);
    const k = arr([0, 1], [1, 2, 1, 1]);
    const v = arr([10, 20], [1, 2, 1, 1]);
    const causal = np.array([true, false, true, true], { shape: [1, 1, 2, 2], dtype: np.bool });
    const y = read(attention(q, k, v, causal)); // [1, 2, 2, 1]
    expect(y[0]).toBeCloseTo(10, 5); // first query sees only the first key
    expect(y[1]).toBeCloseTo(10, 5); // both heads use the same kv head
    const p1 = Math.exp(1) / (1 + Math.exp(1));
    expect(y[2]).toBeCloseTo(10 * (1 - p1) + 20 * p1, 4);
    expect(y[3]).toBeCloseTo(y[2]!, 6);
  });

  it("crossEntropy weights per-token NLL", () => {
    const logits = arr([0, 0, Math.log(3), 0], [1, 2, 2]);
    const targets = np.array(new Int32Array([1, 0]), { shape: [1, 2], dtype: np.int32 });
    const weights = arr([0.25, 0.75], [1, 2]);
    const loss = crossEntropy(logits, targets, weights).item();
    expect(loss).toBeCloseTo(0.25 * Math.log(2) + 0.75 * -Math.log(3 / 4), 5);
  });
});
