/**
 * Parity with the Hugging Face reference (test/fixtures/glm4v-tiny): every stage of the vision tower, the
 * position ids, every decoder layer and the logits, for one image, two images and a video; the logits on the native
 * engine too.
 */
import { type Array as JaxArray, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { type GlmvConfig, rotaryDim } from "./config.ts";
import { buildInputs, forwardLogits } from "./model.ts";
import type { GlmvParams } from "./params.ts";
import {
  loadParityFixture,
  nativeLogits,
  type ParityFixture,
  relError,
  stageErrors,
} from "./parity-fixture.ts";
import { textRopeTable } from "./rope.ts";

const DIR = new URL("../../test/fixtures/glm4v-tiny/", import.meta.url);
const CASES = ["image_8x12", "two_images_4x4_6x10", "video_2x4x6"] as const;

let cfg: GlmvConfig;
let params: GlmvParams;
let fixture: ParityFixture;

beforeAll(async () => {
  await initTensorEngine();
  fixture = loadParityFixture(DIR);
  ({ cfg, params } = fixture);
});

const get = (name: string) => fixture.get(name);
const hostBatch = (name: string) => fixture.hostBatch(name);

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
    const errors = stageErrors(fixture, name, stages);
    expect(Object.keys(errors).length).toBeGreaterThanOrEqual(13);
    if (process.env.GLMV_PARITY_VERBOSE) console.log(name, errors);
    for (const [stage, err] of Object.entries(errors)) expect(err, stage).toBeLessThan(1e-4);
  });

  it("the logits on the native engine (the default backend) are within 1e-4 relative", async (ctx) => {
    const logits = await nativeLogits(cfg, params, hostBatch(name));
    if (!logits) return ctx.skip();
    expect(relError(logits, get(`${name}.logits`).data)).toBeLessThan(1e-4);
  });
});
