import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import type { ChatRequest } from "./chat-generate.ts";
import { type ChatModel, chatModelOf } from "./chat-model.ts";
import { presetConfig } from "./config.ts";
import { initNamed, paramsFromNamed } from "./params.ts";
import { loadTinyTokenizer } from "./tokenizer.ts";

const cfg = presetConfig("tiny");
const grey = (w: number, h: number, v: number) => ({
  data: new Uint8Array(w * h).fill(v),
  width: w,
  height: h,
  channels: 1,
});
const ask = (text: string, v: number, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: "user", content: [{ type: "image" }, { type: "text", text }] }],
  images: [grey(56, 56 + (v % 3) * 28, v)],
  maxTokens: 6,
  temperature: 0,
  ...extra,
});

let batched: ChatModel;
let single: ChatModel;

beforeAll(async () => {
  await initTensorEngine();
  const tok = await loadTinyTokenizer();
  const load = () => ({ cfg, tok, params: paramsFromNamed(initNamed(cfg, 5, 0.3), cfg) });
  batched = chatModelOf(load(), { maxBatch: 4 });
  single = chatModelOf(load(), { maxBatch: 1 });
});

afterAll(async () => {
  await batched?.close();
  await single?.close();
});

describe("chat model scheduling", () => {
  it("batches concurrent greedy requests, each answered as if it ran alone", async () => {
    const requests = [ask("What is it?", 40), ask("Count them.", 200), ask("Colour?", 90)];
    const before = batched.stats();
    const together = await Promise.all(requests.map((r) => batched.generate(r)));
    const after = batched.stats();
    expect(after.requests - before.requests).toBe(3);
    expect(after.batches - before.batches).toBeLessThan(3); // at least two shared a batch
    const alone = [];
    for (const r of requests) alone.push(await single.generate(r));
    expect(together.map((r) => r.text)).toEqual(alone.map((r) => r.text));
    // a shape seen before (same image size, prompt length within one bucket) is not compiled again
    const compiled = single.stats().compiles;
    const again = await single.generate(ask("What is it now?", 40));
    expect(single.stats().compiles).toBe(compiled);
    expect(again.completionTokens).toBeGreaterThan(0);
    for (const r of together) {
      expect(r.completionTokens).toBeLessThanOrEqual(6);
      expect(r.promptTokens).toBeGreaterThan(4);
    }
  });

  it("runs sampled requests alone: the sample depends on the seed only", async () => {
    const sampled = (seed: number) => ask("Describe.", 7, { temperature: 1, seed, maxTokens: 5 });
    const [a, b] = await Promise.all([batched.generate(sampled(11)), batched.generate(sampled(11))]);
    const c = await single.generate(sampled(11));
    expect(a.text).toBe(c.text);
    expect(b.text).toBe(c.text);
  });

  it("force-answers when the thinking budget runs out, and flags it", async () => {
    const forced = await single.generate(ask("Why?", 3, { maxTokens: 4, thinkBudget: 1, answerTokens: 2 }));
    expect(forced.forcedAnswer).toBe(true);
    expect(forced.text).toContain("</think><answer>");
    expect(forced.completionTokens).toBeLessThanOrEqual(5); // 1 thought token + 2 forced + 2 answer
    const free = await single.generate(ask("Why?", 3, { maxTokens: 4 }));
    expect(free.forcedAnswer).toBe(false);
    expect(free.finishReason === "length" || free.finishReason === "stop").toBe(true);
  });

  it("rejects a request whose signal is already aborted, and refuses work after close", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await expect(single.generate(ask("Q", 1, { signal: controller.signal }))).rejects.toThrow("gone");
    const tok = await loadTinyTokenizer();
    const m = chatModelOf({ cfg, tok, params: paramsFromNamed(initNamed(cfg, 1, 0.3), cfg) });
    await m.close();
    await expect(m.generate(ask("Q", 1))).rejects.toThrow(/closed/);
  });
});
