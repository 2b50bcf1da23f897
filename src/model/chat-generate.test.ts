import { describe, expect, it } from "vitest";
import { chatPromptText, cutAtStop, prepareChat, tokenLimit } from "./chat-generate.ts";
import { presetConfig } from "./config.ts";
import { loadTinyTokenizer } from "./tokenizer.ts";

const user = (text: string) => ({
  role: "user" as const,
  content: [{ type: "image" as const }, { type: "text" as const, text }],
});
const grey = (w: number, h: number) => ({
  data: new Uint8Array(w * h).fill(128),
  width: w,
  height: h,
  channels: 1,
});

describe("chatPromptText", () => {
  it("opens a new assistant turn, with the 4.5V switch", () => {
    expect(chatPromptText([{ role: "user", content: "Hi" }], { style: "4.5v", thinking: false })).toBe(
      "[gMASK]<sop><|user|>\nHi/nothink<|assistant|>\n<think></think>\n",
    );
    expect(chatPromptText([{ role: "user", content: "Hi" }], { style: "4.1v", thinking: false })).toBe(
      "[gMASK]<sop><|user|>\nHi<|assistant|>\n",
    );
  });

  it("continueFinal continues the assistant's text verbatim (thinking kept), as a force-answer request needs", () => {
    const partial = "<think>the bars are 3 and 4</think><answer>";
    const messages = [
      { role: "user" as const, content: "Sum?" },
      { role: "assistant" as const, content: partial },
    ];
    expect(chatPromptText(messages, { style: "4.1v", thinking: true, continueFinal: true })).toBe(
      `[gMASK]<sop><|user|>\nSum?<|assistant|>\n${partial}`,
    );
    // 4.5V non-thinking: the continued text's own <think> replaces the pre-filled empty one
    expect(chatPromptText(messages, { style: "4.5v", thinking: false, continueFinal: true })).toBe(
      `[gMASK]<sop><|user|>\nSum?/nothink<|assistant|>\n${partial}`,
    );
    // without continueFinal the assistant turn is history (4.1V keeps only its answer) and a new turn opens
    expect(chatPromptText(messages, { style: "4.1v", thinking: true })).toMatch(/<\|assistant\|>\n$/);
  });
});

describe("prepareChat", () => {
  const cfg = presetConfig("tiny");

  it("expands each image to its token count and applies force-answering only to an open thought", async () => {
    const tok = await loadTinyTokenizer();
    const core = { cfg, tok, style: "4.5v" as const };
    const p = await prepareChat(core, {
      messages: [user("What?")],
      images: [grey(56, 84)],
      maxTokens: 8,
      thinkBudget: 4,
      answerTokens: 3,
    });
    expect(p.imageGrids).toEqual([[1, 8, 6]]); // scaled up to the processor's min pixels
    expect(p.ids.filter((t) => t === tok.special.image)).toHaveLength(12);
    expect(p.forced).toEqual([tok.special.thinkEnd]);
    expect(tokenLimit(p)).toBe(8); // max(8, 4 + 1 + 3)
    const off = await prepareChat(core, {
      messages: [user("What?")],
      images: [grey(56, 84)],
      thinking: false,
      maxTokens: 8,
      thinkBudget: 4,
    });
    expect(off.forced).toBeUndefined(); // the prompt already closed the thought
    const p41 = await prepareChat(
      { ...core, style: "4.1v" },
      { messages: [user("What?")], images: [grey(56, 84)], maxTokens: 4, thinkBudget: 4, answerTokens: 10 },
    );
    expect(p41.forced).toEqual([tok.special.thinkEnd, tok.special.answerStart]);
    expect(tokenLimit(p41)).toBe(16);
  });

  it("caps image tokens with maxPixels, and refuses a count mismatch", async () => {
    const tok = await loadTinyTokenizer();
    const core = { cfg, tok, style: "4.1v" as const, media: { maxPixels: 2 * 56 * 56 } };
    const p = await prepareChat(core, { messages: [user("Q")], images: [grey(560, 560)], maxTokens: 2 });
    expect(p.imageGrids).toEqual([[1, 4, 4]]);
    await expect(prepareChat(core, { messages: [user("Q")], images: [], maxTokens: 2 })).rejects.toThrow(
      /more <\|image\|> than images/,
    );
  });
});

describe("cutAtStop", () => {
  it("cuts before the earliest stop string", () => {
    expect(cutAtStop("a STOP b END", ["END", "STOP"])).toEqual({ text: "a ", hit: true });
    expect(cutAtStop("abc", ["x", ""])).toEqual({ text: "abc", hit: false });
  });
});
