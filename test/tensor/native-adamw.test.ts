/**
 * The lowered AdamW (jax-js's `adamwUpdate` traced, lowered to ONNX, run by onnxruntime-node) against jax-js's
 * own on the same inputs over several steps: new weights, both moments, the step count and the gradient norm
 * agree within float tolerance, with gradient clipping binding and off, weight decay on matrices only.
 */
import { type Array as JaxArray, type JsTree, jit, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { AdamWConfig, type AdamWState, adamwInit, adamwUpdate } from "../../src/tensor/adamw.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { compileNative, type HostArray, loadOnnxRuntime, toHost } from "../../src/tensor/onnx/program.ts";
import { mulberry32 } from "../../src/util/rng.ts";

const available = await loadOnnxRuntime();

type Params = { w: JaxArray; emb: JaxArray; bias: JaxArray };

/** Seeded uniform values in [−scale, scale). */
function randomArray(shape: number[], seed: number, scale: number): JaxArray {
  const rand = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale)).reshape(shape);
}

const params = (seed: number, scale = 1): Params => ({
  w: randomArray([16, 24], seed, scale),
  emb: randomArray([40, 16], seed + 1, scale),
  bias: randomArray([24], seed + 2, scale),
});

/** max |a − b| / max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den > 0 ? num / den : num;
}

const hosts = (t: unknown): Promise<HostArray[]> =>
  Promise.all((tree.leaves(tree.ref(t as never)) as JaxArray[]).map(toHost));

describe.skipIf(!available)("lowered AdamW equals jax-js's adamwUpdate", () => {
  beforeAll(async () => {
    await initTensorEngine();
  });

  const cases = [
    {
      name: "clipping binds (large gradients), weight decay on",
      adamw: { clipNorm: 1, weightDecay: 0.1 },
      gradScale: 5,
    },
    { name: "clipping off, default decay", adamw: { clipNorm: 0 }, gradScale: 0.01 },
  ];
  for (const c of cases) {
    it(`${c.name}: weights, moments, step and gradient norm over 3 steps`, async () => {
      const adamw = AdamWConfig.parse(c.adamw);
      const update = (p: Params, g: Params, o: AdamWState<Params>, lr: JaxArray) =>
        adamwUpdate(p, g, o, lr, adamw) as unknown as JsTree<JaxArray>;
      let p = params(1);
      let o = adamwInit(p);
      const native = await compileNative(update, [p, p, o, np.array(3e-2)], { threads: 1 });
      const reference = jit(update);
      try {
        const slots = tree.unflatten(
          native.outTree,
          Array.from({ length: 2 * 3 + 1 + 3 + 1 }, (_, i) => i),
        ) as unknown as { params: Params; state: AdamWState<Params>; gradNorm: number };
        const paramIdx = tree.leaves(slots.params as never) as unknown as number[];
        const stateIdx = tree.leaves(slots.state as never) as unknown as number[];
        let hostP = await hosts(p);
        let hostO = await hosts(o);
        for (let step = 0; step < 3; step++) {
          const g = params(10 + step, c.gradScale);
          const lr = np.array(3e-2);
          const outs = await native.run([...hostP, ...(await hosts(g)), ...hostO, ...(await hosts(lr))]);
          const ref = reference(p, g, o, lr) as unknown as {
            params: Params;
            state: AdamWState<Params>;
            gradNorm: JaxArray;
          };
          const refLeaves = await hosts(ref);
          const refSlots = tree.unflatten(native.outTree, refLeaves as never) as unknown as {
            gradNorm: HostArray;
          };
          expect(outs.length).toBe(refLeaves.length);
          const worst = Math.max(...refLeaves.map((r, i) => relError(outs[i]!.data, r.data)));
          expect(worst).toBeLessThan(1e-5);
          const norm = outs[slots.gradNorm]!.data[0]!;
          expect(norm).toBeCloseTo(refSlots.gradNorm.data[0]!, 4);
          if (c.adamw.clipNorm) expect(norm).toBeGreaterThan(1); // the clip binds
          hostP = paramIdx.map((j) => outs[j]!);
          hostO = stateIdx.map((j) => outs[j]!);
          p = ref.params;
          o = ref.state;
          ref.gradNorm.dispose();
        }
        const stepSlot = slots.state.step as unknown as number;
        expect(hostO[stateIdx.indexOf(stepSlot)]!.data[0]).toBe(3); // the step count went with the moments
      } finally {
        reference.dispose();
        await native.dispose();
        tree.dispose([p, o]);
      }
    }, 60_000);
  }
});
