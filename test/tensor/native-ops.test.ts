/**
 * Single primitives through the native engine against jax-js: the exact GELU of the vision merger (its erfc,
 * which ONNX lacks and the lowering writes as 1 − Erf) and its gradient, over a range where erfc runs from 2
 * to ~0; and the gradient of `take` (a scatter-add) on two threads with many repeats of one index, exact and the
 * same on every run (onnxruntime's ScatterND lost repeated updates on two threads).
 */
import { grad, type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { compileNative, type HostArray, loadOnnxRuntime, toHost } from "../../src/tensor/onnx/program.ts";
import { geluExact } from "../../src/tensor/ops.ts";

const available = await loadOnnxRuntime();

describe.skipIf(!available)("native primitives equal jax-js", () => {
  beforeAll(async () => {
    await initTensorEngine();
  });

  it("exact GELU (erfc) and its gradient on [−6, 6]", async () => {
    const xs = Float32Array.from({ length: 97 }, (_, i) => -6 + i / 8);
    const fn = (x: JaxArray) => ({
      y: geluExact(x.ref),
      dy: grad((z: JaxArray) => geluExact(z).sum())(x),
    });
    const x = np.array(xs);
    const native = await compileNative(fn, [x], { threads: 1 });
    try {
      const outs = await native.run([await toHost(x.ref)]);
      const reference = jit(fn);
      const ref = reference(x) as { y: JaxArray; dy: JaxArray };
      const [y, dy] = [(await ref.y.data()) as Float32Array, (await ref.dy.data()) as Float32Array];
      reference.dispose();
      expect(native.primitives.erfc).toBeGreaterThan(0);
      const got = tree.unflatten(native.outTree, outs) as unknown as { y: HostArray; dy: HostArray };
      const worst = (a: HostArray, b: Float32Array) =>
        Math.max(...Array.from(b, (v, i) => Math.abs(a.data[i]! - v) / Math.max(1, Math.abs(v))));
      expect(worst(got.y, y)).toBeLessThan(1e-5);
      expect(worst(got.dy, dy)).toBeLessThan(1e-4);
    } finally {
      await native.dispose();
    }
  });

  it("take's gradient on two threads: each row sums its repeats exactly, the same bits on every run", async () => {
    const rows = 100;
    const width = 256;
    const idx = Int32Array.from({ length: 2048 }, (_, k) => (k % 3 === 0 ? 7 : (k * 37) % rows));
    const fn = (w: JaxArray, i: JaxArray) => grad((v: JaxArray) => np.take(v, i, 0).sum())(w);
    const w = np.zeros([rows, width]);
    const i = np.array(idx, { shape: [idx.length], dtype: np.int32 });
    const native = await compileNative(fn, [w, i], { threads: 2 });
    try {
      const inputs = [await toHost(w), await toHost(i)];
      const counts = new Float32Array(rows);
      for (const k of idx) counts[k]!++;
      expect(counts[7]).toBeGreaterThan(600);
      const first = (await native.run(inputs))[0]!.data as Float32Array;
      for (let r = 0; r < rows; r++)
        expect(first.subarray(r * width, (r + 1) * width)).toEqual(new Float32Array(width).fill(counts[r]!));
      for (let run = 0; run < 5; run++) expect((await native.run(inputs))[0]!.data).toEqual(first);
    } finally {
      await native.dispose();
    }
  });
});
