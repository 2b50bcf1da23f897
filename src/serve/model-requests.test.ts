import { describe, expect, it } from "vitest";
import type { ChatResult } from "../model/chat-generate.ts";
import { chatRequestOfBody, completionBody, dataUrlBytes, splitGlmReasoning } from "./model-requests.ts";

const limits = { maxTokens: 100, defaultMaxTokens: 10 };

describe("chatRequestOfBody", () => {
  it("maps OpenAI fields to a chat request (defaults, precedence, roles)", async () => {
    const r = await chatRequestOfBody(
      {
        messages: [
          { role: "developer", content: "Be brief." },
          { role: "user", content: [{ type: "text", text: "Q1" }] },
          { role: "assistant", content: "A1", reasoning_content: "r1" },
          { role: "user", content: "Q2" },
        ],
        max_tokens: 5,
        max_completion_tokens: 7,
        top_k: -1,
        stop: "###",
        seed: 4,
        logprobs: false, // unknown OpenAI fields are ignored
      },
      limits,
    );
    expect(r.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(r.messages[2]).toMatchObject({ reasoningContent: "r1" });
    expect(r).toMatchObject({
      maxTokens: 7,
      topK: 0,
      stop: ["###"],
      seed: 4,
      temperature: 1,
      thinking: true,
    });
    expect(r.continueFinal).toBe(false);
    expect((await chatRequestOfBody({ messages: [{ role: "user", content: "x" }] }, limits)).maxTokens).toBe(
      10,
    );
  });

  it("thinking: enable_thinking false, or /nothink ending the last user turn, switches it off", async () => {
    const off = await chatRequestOfBody(
      { messages: [{ role: "user", content: "Q" }], chat_template_kwargs: { enable_thinking: false } },
      limits,
    );
    expect(off.thinking).toBe(false);
    const nothink = await chatRequestOfBody({ messages: [{ role: "user", content: "Q /nothink" }] }, limits);
    expect(nothink.thinking).toBe(false);
  });

  it("continue_final_message (or add_generation_prompt false) continues a final assistant message", async () => {
    const messages = [
      { role: "user", content: "Q" },
      { role: "assistant", content: "<think>so</think><answer>" },
    ];
    expect((await chatRequestOfBody({ messages, continue_final_message: true }, limits)).continueFinal).toBe(
      true,
    );
    expect((await chatRequestOfBody({ messages, add_generation_prompt: false }, limits)).continueFinal).toBe(
      true,
    );
    await expect(
      chatRequestOfBody({ messages: [messages[0]], continue_final_message: true }, limits),
    ).rejects.toMatchObject({ where: "continue_final_message" });
  });

  it("names the field of every bad value", async () => {
    const fieldOf = async (body: unknown) =>
      chatRequestOfBody(body, limits).then(
        () => "accepted",
        (e: { where?: string }) => e.where,
      );
    const user = [{ role: "user", content: "Q" }];
    expect(await fieldOf({})).toBe("messages");
    expect(await fieldOf({ messages: [] })).toBe("messages");
    expect(await fieldOf({ messages: [{ role: "robot", content: "x" }] })).toBe("messages.0.role");
    expect(await fieldOf({ messages: user, max_tokens: 0 })).toBe("max_tokens");
    expect(await fieldOf({ messages: user, max_tokens: 101 })).toBe("max_tokens");
    expect(await fieldOf({ messages: user, temperature: -1 })).toBe("temperature");
    expect(await fieldOf({ messages: user, stream: true })).toBe("stream");
    expect(await fieldOf({ messages: user, n: 2 })).toBe("n");
    const image = (url: string) => ({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }],
    });
    expect(await fieldOf(image("https://example.com/a.png"))).toBe("messages.0.content.0.image_url");
    expect(await fieldOf(image("file:///etc/passwd"))).toBe("messages.0.content.0.image_url");
    await expect(chatRequestOfBody(image("data:image/png;base64,AAAA"), limits)).rejects.toMatchObject({
      code: "image_invalid",
      where: "messages.0.content.0.image_url",
    });
  });
});

describe("dataUrlBytes", () => {
  it("reads base64 and percent-encoded payloads", () => {
    expect([...dataUrlBytes("data:image/png;base64,AQID", "f")]).toEqual([1, 2, 3]);
    expect([...dataUrlBytes("data:,a%20b", "f")]).toEqual([97, 32, 98]);
    expect(() => dataUrlBytes("data:image/png;base64", "f")).toThrow(/comma/);
  });
});

describe("splitGlmReasoning (vLLM's GLM-4.5 reasoning parser)", () => {
  it("splits at the first <think> and the next </think>; without both, everything is content", () => {
    expect(splitGlmReasoning("<think>r</think>\nA")).toEqual({ reasoning: "r", content: "\nA" });
    expect(splitGlmReasoning("<think>r</think>")).toEqual({ reasoning: "r", content: null });
    expect(splitGlmReasoning("<think>cut short")).toEqual({ reasoning: null, content: "<think>cut short" });
    expect(splitGlmReasoning("no thinking")).toEqual({ reasoning: null, content: "no thinking" });
  });
});

describe("completionBody", () => {
  const result: ChatResult = {
    text: "<think>r</think><answer>4</answer>",
    finishReason: "stop",
    forcedAnswer: false,
    promptTokens: 10,
    completionTokens: 6,
  };
  it("keeps GLM's raw text in content by default; glm45 splits it out", () => {
    const raw = completionBody(result, { model: "m", reasoningParser: "none" });
    expect(raw).toMatchObject({
      object: "chat.completion",
      model: "m",
      choices: [{ message: { role: "assistant", content: result.text, reasoning_content: null } }],
      usage: { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 },
    });
    const split = completionBody(result, { model: "m", reasoningParser: "glm45" });
    expect(split.choices[0]!.message).toMatchObject({
      content: "<answer>4</answer>",
      reasoning_content: "r",
    });
  });
});
