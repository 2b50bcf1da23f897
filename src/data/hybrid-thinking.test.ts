import { beforeAll, describe, expect, it } from "vitest";
import { presetConfig } from "../model/config.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import type { Encoder } from "../rl/encode.ts";
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
