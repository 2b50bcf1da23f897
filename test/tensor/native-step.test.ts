/**
 * The native engine (jax-js program → ONNX → onnxruntime-node) against jax-js on the trainer core's own gradient
 * function: on packed rows of several sequences, the loss, every figure and every gradient leaf agree within
 * float tolerance, for the dense `tiny` preset and the glm4v_moe `tiny-moe` preset (balance loss included).
 */
import { type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { presetConfig } from "../../src/model/config.ts";
import { tokenValidity } from "../../src/model/moe-balance.ts";
import { packTrainRows, type TrainSegment } from "../../src/model/packed-rows.ts";
import { initParams } from "../../src/model/params.ts";
import { gradStep } from "../../src/model/trainer-core-train.ts";
import type { GradArgs } from "../../src/model/trainer-objective.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { compileNative, loadOnnxRuntime, toHost } from "../../src/tensor/onnx/program.ts";
import { mulberry32 } from "../../src/util/rng.ts";

const available = await loadOnnxRuntime();

/** Seeded sequences of 5–20 tokens with a loss weight on the second half of each. */
function segments(n: number, seed: number): TrainSegment[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const len = 5 + Math.floor(rand() * 16);
    const ids = Array.from({ length: len }, () => Math.floor(rand() * 90));
    return { ids, weights: ids.map((_, j) => (j >= len / 2 ? 1 / (4 * len) : 0)) };
  });
}

/** max |a − b| / max |b| over one leaf. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den > 0 ? num / den : num;
}

describe.skipIf(!available)("native training step (ONNX) equals jax-js", () => {
  beforeAll(async () => {
    await initTensorEngine();
  });

  for (const preset of ["tiny", "tiny-moe"] as const) {
    it(`${preset}: loss, figures and all gradients on packed rows`, async () => {
      const cfg = presetConfig(preset);
      const params = initParams(cfg, 3);
      const segs = segments(6, 7);
      const { rows } = packTrainRows(cfg, [segs.slice(0, 3), segs.slice(3, 5), segs.slice(5)], {
        rows: 3,
        context: 64,
        imageSlots: 0,
      });
      const { oldLogprobs, advantages, valid, ...base } = rows;
      tree.dispose([oldLogprobs, advantages].filter((x) => x !== undefined));
      const args: GradArgs = base;
      if (cfg.text.moe) {
        args.valid = valid ?? tokenValidity(rows.inputs.mask.ref);
        args.auxScale = np.array(0.5);
      } else valid?.dispose();
      const fn = gradStep(cfg, { kind: "cross_entropy" }, 0.01);
      const native = await compileNative(fn, [params, args], { threads: 1 });
      try {
        const inputs = await Promise.all((tree.leaves(tree.ref([params, args])) as JaxArray[]).map(toHost));
        const outs = await native.run(inputs);
        const reference = jit(fn);
        const ref = reference(tree.ref(params), tree.ref(args));
        const refLeaves: ArrayLike<number>[] = await Promise.all(
          (tree.leaves(ref) as JaxArray[]).map(async (a) => (await a.data()) as Float32Array),
        );
        reference.dispose();
        expect(outs.length).toBe(refLeaves.length);
        expect(outs.length).toBeGreaterThan(20); // figures and one gradient per weight
        const worst = Math.max(...refLeaves.map((r, i) => relError(outs[i]!.data, r)));
        expect(worst).toBeLessThan(1e-4);
        expect(outs.every((o) => Array.from(o.data).every(Number.isFinite))).toBe(true);
      } finally {
        await native.dispose();
        tree.dispose([params, args]);
      }
    }, 60_000);
  }
});
