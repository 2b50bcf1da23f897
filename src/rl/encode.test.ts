import { beforeAll, describe, expect, it } from "vitest";
import { buildSuite } from "../data/tasks/suite.ts";
import type { TaskItem } from "../data/tasks/types.ts";
import { presetConfig } from "../model/config.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { isGlmvError } from "../util/errors.ts";
import {
  type Encoder,
  encodePrompt,
  encodeSftExample,
  padRow,
  processImageFor,
  promptFromItem,
  stopTokenIds,
} from "./encode.ts";

let tok: GlmvTokenizer;
let enc: Encoder;
let items: TaskItem[];

beforeAll(async () => {
  tok = await loadTinyTokenizer();
  enc = { cfg: presetConfig("tiny"), tok, style: "4.1v" };
  items = buildSuite({ seed: 3, perFamily: 2, split: "train" });
});

const count = (ids: readonly number[], id: number) => ids.filter((x) => x === id).length;

describe("encodePrompt", () => {
  it("puts exactly 4 <|image|> tokens for a 56×56 image, between the image markers", () => {
    for (const item of items) {
      const { ids, grids, pixels } = encodePrompt(enc, promptFromItem(item));
      expect(count(ids, tok.special.image)).toBe(4);
      expect(grids).toEqual([[1, 4, 4]]);
      expect(pixels.length).toBe(16 * 3 * 2 * 14 * 14);
      const begin = ids.indexOf(tok.special.beginImage);
      expect(ids.slice(begin + 1, begin + 5)).toEqual([4, 4, 4, 4].map(() => tok.special.image));
      expect(ids[begin + 5]).toBe(tok.special.endImage);
    }
  });

  it("renders the chat template: [gMASK]<sop><|user|>\\n … question<|assistant|>\\n", () => {
    const item = items[0]!;
    const { ids } = encodePrompt(enc, promptFromItem(item));
    const text = tok.decode(ids);
    expect(text.startsWith("[gMASK]<sop><|user|>\n<|begin_of_image|>")).toBe(true);
    expect(text.endsWith(`${item.question}<|assistant|>\n`)).toBe(true);
  });

  it("keeps a 56×56 image at 4×4 patches (the default processor would upscale it)", () => {
    const img = promptFromItem(items[0]!).images[0]!;
    expect(processImageFor(enc.cfg, img).grid).toEqual([1, 4, 4]);
  });
});

describe("encodeSftExample", () => {
  it("the loss mask covers exactly the response tokens (target + end of text)", () => {
    for (const item of items) {
      const ex = encodeSftExample(enc, item, "4.1v");
      const prompt = encodePrompt(enc, promptFromItem(item)).ids;
      expect(ex.ids.slice(0, prompt.length)).toEqual(prompt);
      expect(ex.promptTokens).toBe(prompt.length);
      const learnt = ex.ids.filter((_, i) => ex.lossMask[i] === 1);
      expect(tok.decode(learnt)).toBe(
        `<think>${item.cot}</think><answer><|begin_of_box|>${item.responseAnswer}<|end_of_box|></answer><|endoftext|>`,
      );
      expect(ex.lossMask.slice(0, prompt.length).every((m) => m === 0)).toBe(true);
      expect(stopTokenIds(tok)).toContain(learnt.at(-1));
    }
  });

  it("4.5v targets have no <answer> tags", () => {
    const ex = encodeSftExample({ ...enc, style: "4.5v" }, items[0]!, "4.5v");
    expect(ex.ids).not.toContain(tok.special.answerStart);
    expect(ex.ids).toContain(tok.special.beginBox);
  });
});

describe("padRow", () => {
  it("pads on the right with mask 0 and rejects rows longer than the fixed length", () => {
    expect(padRow([5, 6], 4, 0)).toEqual({ ids: [5, 6, 0, 0], mask: [1, 1, 0, 0] });
    try {
      padRow([1, 2, 3], 2, 0);
      expect.unreachable();
    } catch (e) {
      expect(isGlmvError(e) && e.code).toBe("bad_input");
    }
  });
});
