import { numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll } from "../tensor/own.ts";
import { presetConfig } from "./config.ts";
import { initParams } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { runVision, visionAux, visionGeometry, visionSegments } from "./vision.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const cfg = presetConfig("tiny", { text: { vocabSize: 32 } });
const rowLen = 3 * 2 * 14 * 14;

function pixels(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * rowLen }, (_, i) => Math.sin(i * 0.013 + seed));
}

function run(grids: GridThw[], px: Float32Array, params: ReturnType<typeof initParams>): Float32Array {
  const geo = visionGeometry(grids, cfg);
  const out = runVision(
    tree.ref(params.vision),
    np.array(px, { shape: [geo.patches, rowLen] }),
    visionAux(geo),
    cfg.vision,
  );
  return out.dataSync() as Float32Array;
}

describe("vision tower", () => {
  it("splits videos into one segment per temporal patch", () => {
    expect(
      visionSegments([
        [1, 4, 4],
        [3, 2, 6],
      ]),
    ).toEqual([
      [1, 4, 4],
      [1, 2, 6],
      [1, 2, 6],
      [1, 2, 6],
    ]);
  });

  it("segments do not attend to each other: two images in one call equal two calls", () => {
    const params = initParams(cfg, 4, 0.1);
    const a = pixels(16, 1);
    const b = pixels(24, 2);
    const both = new Float32Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const joint = run(
      [
        [1, 4, 4],
        [1, 4, 6],
      ],
      both,
      params,
    );
    const separate = [...run([[1, 4, 4]], a, params), ...run([[1, 4, 6]], b, params)];
    expect(joint.length).toBe((16 / 4 + 24 / 4) * cfg.vision.outHiddenSize);
    let maxDiff = 0;
    for (let i = 0; i < joint.length; i++) maxDiff = Math.max(maxDiff, Math.abs(joint[i]! - separate[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    disposeAll(params);
  });

  it("consumes params, pixels and geometry", () => {
    const params = initParams(cfg, 4);
    const geo = visionGeometry([[1, 2, 2]], cfg);
    const px = np.array(pixels(4, 0), { shape: [4, rowLen] });
    const aux = visionAux(geo);
    const out = runVision(params.vision, px, aux, cfg.vision);
    expect(out.shape).toEqual([1, cfg.vision.outHiddenSize]);
    for (const x of [
      px,
      aux.cos,
      aux.mask,
      aux.posWeights,
      params.vision.posEmbed,
      params.vision.blocks[1]!.qkv,
    ])
      expect(x.refCount).toBe(0);
    disposeAll(out, params.text);
  });
});
