/**
 * Parity with the Hugging Face reference (test/fixtures/glm4v-tiny): every stage of the vision tower, the
 * position ids, every decoder layer and the logits, for one image, two images and a video.
 */
import { readFileSync } from "node:fs";
import { type Array as JaxArray, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { type GlmvConfig, parseHfConfig, rotaryDim } from "./config.ts";
import { buildInputs, forwardLogits, type HostBatch } from "./model.ts";
import { type GlmvParams, paramsFromNamed } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { textRopeTable } from "./rope.ts";
import { readSafetensors, type SafeTensor } from "./safetensors.ts";

const DIR = new URL("../../test/fixtures/glm4v-tiny/", import.meta.url);
const CASES = ["image_8x12", "two_images_4x4_6x10", "video_2x4x6"] as const;

let cfg: GlmvConfig;
let params: GlmvParams;
let fx: Map<string, SafeTensor>;

beforeAll(async () => {
  await initTensorEngine();
  cfg = parseHfConfig(JSON.parse(readFileSync(new URL("config.json", DIR), "utf8")));
  const weights = readSafetensors(new Uint8Array(readFileSync(new URL("model.safetensors", DIR))));
  params = paramsFromNamed(weights, cfg);
  fx = readSafetensors(new Uint8Array(readFileSync(new URL("fixtures.safetensors", DIR))));
});

function get(name: string): SafeTensor {
  const t = fx.get(name);
  if (!t) throw new Error(`fixture ${name} missing`);
  return t;
}

function rows2d(t: SafeTensor): number[][] {
  const [r, c] = t.shape as [number, number];
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}

function hostBatch(name: string): HostBatch {
  const tokens = rows2d(get(`${name}.input_ids`));
  const batch: HostBatch = { tokens, attentionMask: rows2d(get(`${name}.attention_mask`)) };
  const img = fx.get(`${name}.image_grid_thw`);
  const vid = fx.get(`${name}.video_grid_thw`);
  if (img) batch.imageGridThw = rows2d(img) as unknown as GridThw[];
  if (vid) batch.videoGridThw = rows2d(vid) as unknown as GridThw[];
  const pix = fx.get(`${name}.pixel_values`) ?? fx.get(`${name}.pixel_values_videos`);
  if (pix) batch.pixels = pix.data as Float32Array;
  return batch;
}

/** max |a − b| / max |b| */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i]! - expected[i]!));
    den = Math.max(den, Math.abs(expected[i]!));
  }
  return num / den;
}

describe.each(CASES)("parity %s", (name) => {
  it("position ids and rope deltas equal the reference", () => {
    const { info } = buildInputs(cfg, hostBatch(name));
    const ref = get(`${name}.position_ids`); // [3, 1, S]
    expect(info.positions[0]!.flat()).toEqual(Array.from(ref.data));
    expect(info.ropeDeltas).toEqual(Array.from(get(`${name}.rope_deltas`).data));
  });

  it("M-RoPE tables select the reference's per-axis cos/sin by section", () => {
    const { info } = buildInputs(cfg, hostBatch(name));
    const t = cfg.text;
    const hd = t.hiddenSize / t.numHeads;
    const rot = rotaryDim(t.hiddenSize, t.numHeads, t.partialRotaryFactor);
    const table = textRopeTable(info.positions[0]!, hd, rot, t.mropeSection, t.ropeTheta);
    const refCos = get(`${name}.text.rope_cos`).data; // [3, 1, S, rot]
    const refSin = get(`${name}.text.rope_sin`).data;
    const s = info.positions[0]![0]!.length;
    const section = t.mropeSection.flatMap((n, c) => Array<number>(n).fill(c));
    for (let i = 0; i < s; i++)
      section.forEach((c, k) => {
        const ref = (c * s + i) * rot + k;
        expect(table.cos[i * hd + 2 * k]).toBeCloseTo(refCos[ref]!, 6);
        expect(table.cos[i * hd + 2 * k + 1]).toBeCloseTo(refCos[ref]!, 6);
        expect(table.sin[i * hd + 2 * k]).toBeCloseTo(refSin[ref]!, 6);
      });
  });

  it("every stage and the logits are within 1e-4 relative", () => {
    const { inputs } = buildInputs(cfg, hostBatch(name));
    const stages = new Map<string, Float32Array>();
    const record = (stage: string, x: JaxArray) => stages.set(stage, x.dataSync() as Float32Array);
    const logits = forwardLogits(tree.ref(params), inputs, cfg, { record });
    stages.set("logits", logits.dataSync() as Float32Array);
    const expected = [...fx.keys()]
      .filter((k) => k.startsWith(`${name}.`) && /\.(vision|text)\.|\.logits$/.test(k))
      .filter((k) => !k.includes("rope_"));
    expect(expected.length).toBeGreaterThanOrEqual(13);
    const errors: Record<string, number> = {};
    for (const key of expected) {
      const stage = key.slice(name.length + 1);
      const got = stages.get(stage);
      expect(got, `stage ${stage} recorded`).toBeDefined();
      errors[stage] = relError(got!, get(key).data);
    }
    if (process.env.GLMV_PARITY_VERBOSE) console.log(name, errors);
    for (const [stage, err] of Object.entries(errors)) expect(err, stage).toBeLessThan(1e-4);
  });
});
