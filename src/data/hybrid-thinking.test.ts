import { tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { presetConfig } from "../model/config.ts";
import { concatFloat32, type Encoder, padRow } from "../model/encode.ts";
import { buildInputs, buildTrainBatch, forwardLogits } from "../model/model.ts";
import { initParams } from "../model/params.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { createTrainerCore } from "../model/trainer-core.ts";
import { AdamWConfig } from "../tensor/adamw.ts";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll } from "../tensor/own.ts";
import {
  encodeHybridExample,
  hybridPromptText,
  hybridResponse,
  hybridThinkingMix,
} from "./hybrid-thinking.ts";
import { buildSuite } from "./tasks/suite.ts";
import type { TaskItem } from "./tasks/types.ts";

let tok: GlmvTokenizer;
let enc: Encoder;
let items: TaskItem[];

beforeAll(async () => {
  tok = await loadTinyTokenizer();
  enc = { cfg: presetConfig("tiny-moe"), tok, style: "4.5v" };
  items = buildSuite({ seed: 4, perFamily: 2, split: "train" });
});

describe("hybrid thinking SFT data", () => {
  it("responses: think + box without <answer> when on, only the box when off", () => {
    const item = { cot: "3+4=7", responseAnswer: "7" };
    expect(hybridResponse(item, "think")).toBe("<think>3+4=7</think><|begin_of_box|>7<|end_of_box|>");
    expect(hybridResponse(item, "nothink")).toBe("<|begin_of_box|>7<|end_of_box|>");
  });

  it("mixes both modes in the requested proportion, deterministically", () => {
    const mix = hybridThinkingMix(items, { noThinkFraction: 0.5, seed: 9 });
    const off = mix.filter((x) => x.mode === "nothink").length;
    expect(off).toBe(Math.round(items.length / 2));
    expect(mix.map((x) => x.mode)).toEqual(hybridThinkingMix(items, { seed: 9 }).map((x) => x.mode));
    expect(hybridThinkingMix(items, { noThinkFraction: 0 }).every((x) => x.mode === "think")).toBe(true);
    expect(hybridThinkingMix(items, { noThinkFraction: 1 }).every((x) => x.mode === "nothink")).toBe(true);
  });

  it("thinking off: /nothink on the user turn and a pre-filled empty think; on: neither", () => {
    const item = items[0]!;
    const off = hybridPromptText({ item, mode: "nothink" });
    expect(off).toContain(`${item.question}/nothink<|assistant|>`);
    expect(off.endsWith("<|assistant|>\n<think></think>\n")).toBe(true);
    const on = hybridPromptText({ item, mode: "think" });
    expect(on).not.toContain("/nothink");
    expect(on.endsWith("<|assistant|>\n")).toBe(true);
  });

  it("encodes with the loss on the response only (the pre-filled think carries none)", () => {
    for (const mode of ["think", "nothink"] as const) {
      const item = items[1]!;
      const ex = encodeHybridExample(enc, { item, mode });
      const response = ex.ids.slice(ex.promptTokens);
      expect(tok.decode(response.slice(0, -1))).toBe(hybridResponse(item, mode));
      expect(response[response.length - 1]).toBe(tok.special.endOfText);
      expect(ex.lossMask.slice(0, ex.promptTokens).every((m) => m === 0)).toBe(true);
      expect(ex.lossMask.slice(ex.promptTokens).every((m) => m === 1)).toBe(true);
      expect(ex.ids.filter((id) => id === tok.special.image)).toHaveLength(4);
      expect(ex.grids).toEqual([[1, 4, 4]]);
      // the first learned token tells the modes apart: <think> vs the box
      expect(response[0]).toBe(mode === "think" ? tok.special.thinkStart : tok.special.beginBox);
    }
  });
});

describe("tiny-moe learns the switch", () => {
  it("after a short SFT run the first response token follows the mode: <think> vs the box", async () => {
    await initTensorEngine();
    const cfg = enc.cfg;
    const mix = hybridThinkingMix(items.slice(0, 8), { noThinkFraction: 0.5, seed: 1 });
    const examples = mix.map((x) => encodeHybridExample(enc, x));
    const length = Math.max(...examples.map((e) => e.ids.length));
    const rows = examples.map((e) => padRow(e.ids, length, 0));
    const host = {
      tokens: rows.map((r) => r.ids),
      attentionMask: rows.map((r) => r.mask),
      imageGridThw: examples.flatMap((e) => e.grids),
      pixels: concatFloat32(examples.map((e) => e.pixels)),
    };
    const lossMask = examples.map((e) => [
      ...e.lossMask,
      ...new Array<number>(length - e.ids.length).fill(0),
    ]);
    const batch = buildTrainBatch(cfg, host, lossMask);
    const core = createTrainerCore(cfg, initParams(cfg, 2));
    const adamw = AdamWConfig.parse({});
    const losses: number[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const { loss } = await core.forwardBackwardRows(tree.ref(batch), { kind: "cross_entropy" });
        await core.optimStep(3e-3, adamw);
        losses.push(loss);
      }
      expect(losses[29]!).toBeLessThan(losses[0]! / 4);
      // the trained items in the trained modes, then the same items in the opposite mode (never seen): the
      // decision must follow the switch, not the item
      const flipped = mix.map((x) => ({
        ...x,
        mode: x.mode === "think" ? ("nothink" as const) : ("think" as const),
      }));
      for (const set of [mix, flipped]) {
        const exs = set.map((x) => encodeHybridExample(enc, x));
        const len = Math.max(...exs.map((e) => e.ids.length));
        const padded = exs.map((e) => padRow(e.ids, len, 0));
        const { inputs } = buildInputs(cfg, {
          tokens: padded.map((r) => r.ids),
          attentionMask: padded.map((r) => r.mask),
          imageGridThw: exs.flatMap((e) => e.grids),
          pixels: concatFloat32(exs.map((e) => e.pixels)),
        });
        const logits = forwardLogits(tree.ref(core.params), inputs, cfg).dataSync() as Float32Array;
        const v = cfg.text.vocabSize;
        exs.forEach((e, r) => {
          const at = (r * len + e.promptTokens - 1) * v; // the position that predicts the first response token
          const think = logits[at + tok.special.thinkStart]!;
          const box = logits[at + tok.special.beginBox]!;
          if (set[r]!.mode === "think") expect(think, `row ${r} ${set[r]!.mode}`).toBeGreaterThan(box);
          else expect(box, `row ${r} ${set[r]!.mode}`).toBeGreaterThan(think);
        });
      }
    } finally {
      core.dispose();
      disposeAll(batch);
    }
  }, 60_000);
});
