import { beforeAll, describe, expect, it } from "vitest";
import { presetConfig } from "../model/config.ts";
import { type Encoder, encodePrompt, stopTokenIds } from "../model/encode.ts";
import { type GlmvTokenizer, loadTinyTokenizer } from "../model/tokenizer.ts";
import { encodeSftExample, promptFromItem } from "./task-encoding.ts";
import { buildSuite } from "./tasks/suite.ts";
import type { TaskItem } from "./tasks/types.ts";

let tok: GlmvTokenizer;
let enc: Encoder;
let items: TaskItem[];

beforeAll(async () => {
  tok = await loadTinyTokenizer();
  enc = { cfg: presetConfig("tiny"), tok, style: "4.1v" };
  items = buildSuite({ seed: 3, perFamily: 2, split: "train" });
});

describe("promptFromItem", () => {
  it("is one user turn, the item's image first and then its question; 4 <|image|> tokens once encoded", () => {
    for (const item of items) {
      const prompt = promptFromItem(item);
      expect(prompt.id).toBe(item.id);
      expect(prompt.messages).toEqual([
        { role: "user", content: [{ type: "image" }, { type: "text", text: item.question }] },
      ]);
      expect(prompt.images[0]).toMatchObject({
        width: item.image.width,
        height: item.image.height,
        channels: 3,
      });
      const { ids } = encodePrompt(enc, prompt);
      expect(ids.filter((id) => id === tok.special.image)).toHaveLength(4);
    }
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
