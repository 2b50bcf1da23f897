import { type Array as JaxArray, nn, numpy as np } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "./engine.ts";
import {
  attention,
  attentionProjected,
  crossEntropy,
  geluExact,
  layerNorm,
  linear,
  rmsNorm,
  ropeHalf,
  ropeInterleaved,
  swiGlu,
} from "./ops.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const arr = (data: number[], shape: number[]) => np.array(new Float32Array(data), { shape });
const read = (x: ReturnType<typeof np.ones>) => Array.from(x.dataSync() as Float32Array);
/** Deterministic values in [−1, 1). */
const noise = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => (Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453) % 1);

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

  it("grouped attention equals attention with k/v repeated per query head (shared and per-head masks)", () => {
    const [b, s, h, kv, d] = [2, 3, 4, 2, 4];
    const q = noise(b * s * h * d, 1);
    const k = noise(b * s * kv * d, 2);
    const v = noise(b * s * kv * d, 3);
    const allow: boolean[] = [];
    for (let r = 0; r < b; r++)
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) allow.push(j <= i && !(r === 1 && j === 0));
    const shared = () => np.array(allow, { shape: [b, 1, s, s], dtype: np.bool });
    // reference: repeat kv heads, plain per-head softmax
    const reference = (m: JaxArray) => {
      const kr = np.repeat(arr(k, [b, s, kv, d]), h / kv, 2).transpose([0, 2, 3, 1]);
      const vr = np.repeat(arr(v, [b, s, kv, d]), h / kv, 2).transpose([0, 2, 1, 3]);
      const scores = np.matmul(arr(q, [b, s, h, d]).transpose([0, 2, 1, 3]), kr).mul(1 / Math.sqrt(d));
      const probs = nn.softmax(np.where(m, scores, -1e30), -1);
      return read(np.matmul(probs, vr).transpose([0, 2, 1, 3]));
    };
    const got = read(attention(arr(q, [b, s, h, d]), arr(k, [b, s, kv, d]), arr(v, [b, s, kv, d]), shared()));
    const want = reference(shared());
    for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 5);
    // a mask per query head [B, H, S, T]: head 3 may only see key 0 (row 1 sees nothing else either)
    const headMask = Array.from({ length: b * h * s * s }, (_, idx) => {
      const j = idx % s;
      const i = Math.floor(idx / s) % s;
      const head = Math.floor(idx / (s * s)) % h;
      return head === 3 ? j === 0 : j <= i;
    });
    const hm = () => np.array(headMask, { shape: [b, h, s, s], dtype: np.bool });
    const got2 = read(attention(arr(q, [b, s, h, d]), arr(k, [b, s, kv, d]), arr(v, [b, s, kv, d]), hm()));
    const want2 = reference(hm());
    for (const [i, w] of want2.entries()) expect(got2[i]).toBeCloseTo(w, 5);
  });

  it("attentionProjected equals linear(attention) over the merged heads, with and without a bias", () => {
    const [b, s, h, kv, d, out] = [2, 3, 4, 2, 4, 5];
    const q = noise(b * s * h * d, 11);
    const k = noise(b * s * kv * d, 12);
    const v = noise(b * s * kv * d, 13);
    const w = noise(out * h * d, 14);
    const bias = noise(out, 15);
    const allow = Array.from({ length: b * s * s }, (_, idx) => idx % s <= Math.floor(idx / s) % s);
    const mask = () => np.array(allow, { shape: [b, 1, s, s], dtype: np.bool });
    const inputs = () =>
      [arr(q, [b, s, h, d]), arr(k, [b, s, kv, d]), arr(v, [b, s, kv, d]), mask()] as const;
    const merged = () => attention(...inputs()).reshape([b, s, h * d]);
    const want = read(linear(merged(), arr(w, [out, h * d]), arr(bias, [out])));
    const got = read(attentionProjected(...inputs(), arr(w, [out, h * d]), arr(bias, [out])));
    expect(got.length).toBe(b * s * out);
    for (const [i, x] of want.entries()) expect(got[i]).toBeCloseTo(x, 5);
    const wantNoBias = read(linear(merged(), arr(w, [out, h * d])));
    const gotNoBias = read(attentionProjected(...inputs(), arr(w, [out, h * d])));
    for (const [i, x] of wantNoBias.entries()) expect(gotNoBias[i]).toBeCloseTo(x, 5);
  });

  it("ropeInterleaved and ropeHalf equal x·cos + (x·R)·sin with the rotation matrices", () => {
    const [n, d] = [3, 8];
    const x = noise(n * d, 4);
    const cos = noise(n * d, 5);
    const sin = noise(n * d, 6);
    const pairs = new Float32Array(d * d);
    const half = new Float32Array(d * d);
    for (let j = 0; j < d / 2; j++) {
      pairs[(2 * j + 1) * d + 2 * j] = -1;
      pairs[2 * j * d + 2 * j + 1] = 1;
      half[(j + d / 2) * d + j] = -1;
      half[j * d + j + d / 2] = 1;
    }
    const viaMatrix = (r: Float32Array) =>
      read(
        arr(x, [n, d])
          .mul(arr(cos, [n, d]))
          .add(np.matmul(arr(x, [n, d]), np.array(r, { shape: [d, d] })).mul(arr(sin, [n, d]))),
      );
    const a = read(ropeInterleaved(arr(x, [n, d]), arr(cos, [n, d]), arr(sin, [n, d])));
    const b = read(ropeHalf(arr(x, [n, d]), arr(cos, [n, d]), arr(sin, [n, d])));
    for (const [i, w] of viaMatrix(pairs).entries()) expect(a[i]).toBeCloseTo(w, 5);
    for (const [i, w] of viaMatrix(half).entries()) expect(b[i]).toBeCloseTo(w, 5);
    expect(a).not.toEqual(b);
  });

  it("crossEntropy weights per-token NLL", () => {
    const logits = arr([0, 0, Math.log(3), 0], [1, 2, 2]);
    const targets = np.array(new Int32Array([1, 0]), { shape: [1, 2], dtype: np.int32 });
    const weights = arr([0.25, 0.75], [1, 2]);
    const loss = crossEntropy(logits, targets, weights).item();
    expect(loss).toBeCloseTo(0.25 * Math.log(2) + 0.75 * -Math.log(3 / 4), 5);
  });
});
