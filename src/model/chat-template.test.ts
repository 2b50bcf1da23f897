import { describe, expect, it } from "vitest";
import { answerForHistory, type ChatMessage, renderChat, splitReasoning } from "./chat-template.ts";

const describeImage: ChatMessage[] = [
  { role: "user", content: [{ type: "image" }, { type: "text", text: "Describe this image." }] },
];

describe("GLM-4.1V template", () => {
  it("renders the spec's example character by character", () => {
    expect(renderChat(describeImage, { style: "4.1v" })).toBe(
      "[gMASK]<sop><|user|>\n<|begin_of_image|><|image|><|end_of_image|>Describe this image.<|assistant|>\n",
    );
  });

  it("renders system, video items and multi-turn history with only the answer kept", () => {
    const msgs: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "video" }, { type: "text", text: "What happens?" }] },
      { role: "assistant", content: "<think>long reasoning</think><answer>A cat jumps.</answer>" },
      { role: "user", content: "Why?" },
    ];
    expect(renderChat(msgs, { style: "4.1v" })).toBe(
      "[gMASK]<sop><|system|>\nBe brief.<|user|>\n<|begin_of_video|><|video|><|end_of_video|>What happens?" +
        "<|assistant|>\nA cat jumps.<|user|>\nWhy?<|assistant|>\n",
    );
  });

  it("has no thinking switch: enableThinking=false changes nothing", () => {
    expect(renderChat(describeImage, { style: "4.1v", enableThinking: false })).toBe(
      renderChat(describeImage, { style: "4.1v" }),
    );
  });

  it("writes assistant metadata and can omit the generation prompt", () => {
    const msgs: ChatMessage[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello", metadata: "meta" },
    ];
    expect(renderChat(msgs, { style: "4.1v", addGenerationPrompt: false })).toBe(
      "[gMASK]<sop><|user|>\nhi<|assistant|>meta\nhello",
    );
  });
});

describe("GLM-4.5V template", () => {
  it("thinking on: plain user turn and bare generation prompt", () => {
    expect(renderChat(describeImage, { style: "4.5v" })).toBe(
      "[gMASK]<sop><|user|>\n<|begin_of_image|><|image|><|end_of_image|>Describe this image.<|assistant|>\n",
    );
  });

  it("thinking off: /nothink on every user message and an empty think pre-filled", () => {
    const msgs: ChatMessage[] = [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "<think>add</think>\n<|begin_of_box|>4<|end_of_box|>" },
      { role: "user", content: "and 3+3? /nothink" },
    ];
    expect(renderChat(msgs, { style: "4.5v", enableThinking: false })).toBe(
      "[gMASK]<sop><|user|>\n2+2?/nothink<|assistant|>\n<think></think>\n<|begin_of_box|>4<|end_of_box|>" +
        "<|user|>\nand 3+3? /nothink<|assistant|>\n<think></think>\n",
    );
  });

  it("replays reasoning only for assistant turns after the last user message", () => {
    const msgs: ChatMessage[] = [
      { role: "user", content: "q" },
      { role: "assistant", content: "call tool", reasoningContent: "need a tool" },
      { role: "observation", content: "result" },
    ];
    expect(renderChat(msgs, { style: "4.5v" })).toBe(
      "[gMASK]<sop><|user|>\nq<|assistant|>\n<think>need a tool</think>\ncall tool" +
        "<|observation|>\n<tool_response>\nresult\n</tool_response><|assistant|>\n",
    );
    const before: ChatMessage[] = [...msgs.slice(0, 2), { role: "user", content: "next" }];
    expect(renderChat(before, { style: "4.5v" })).toBe(
      "[gMASK]<sop><|user|>\nq<|assistant|>\n<think></think>\ncall tool<|user|>\nnext<|assistant|>\n",
    );
  });
});

describe("reasoning helpers", () => {
  it("splits at </think> and unwraps <answer> for 4.1V history", () => {
    expect(splitReasoning("<think>\nr</think>\n\nrest")).toEqual({ reasoning: "r", content: "rest" });
    expect(splitReasoning("no think")).toEqual({ reasoning: "", content: "no think" });
    expect(answerForHistory("<think>r</think><answer>x<|begin_of_box|>1<|end_of_box|></answer>")).toBe(
      "x<|begin_of_box|>1<|end_of_box|>",
    );
  });
});
