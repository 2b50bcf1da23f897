import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatHook, createChatClient, imagePart, textPart } from "../../src/curate/hooks/chat.ts";
import {
  cosineSimilarity,
  createEmbeddingsClient,
  EmbeddingsHook,
} from "../../src/curate/hooks/embeddings.ts";
import { type OpenAiLikeServer, startOpenAiLikeServer } from "../helpers/openai-like-server.ts";
import { solidImage } from "../helpers/pairs-images.ts";

let api: OpenAiLikeServer;
beforeAll(async () => {
  api = await startOpenAiLikeServer();
});
afterAll(() => api.close());

describe("embeddings hook", () => {
  for (const imageInput of ["input", "messages"] as const) {
    it(`puts "a red square" nearer a red image than a blue one (images as ${imageInput})`, async () => {
      const clip = createEmbeddingsClient(EmbeddingsHook.parse({ url: api.url, model: "clip", imageInput }));
      const [red, blue] = await clip.embedImages([
        await solidImage(32, 32, [220, 30, 30]),
        await solidImage(32, 32, [30, 50, 220]),
      ]);
      const [text] = await clip.embedTexts(["a red square"]);
      expect(cosineSimilarity(text!, red!)).toBeGreaterThan(cosineSimilarity(text!, blue!) + 0.3);
      const last = api.requests.at(-2)!.body;
      if (imageInput === "input") expect(last.modality).toBe("image");
      else expect(JSON.stringify(last.messages)).toContain('"type":"image_url"');
    });
  }

  it("splits inputs into batches and keeps their order", async () => {
    const before = api.requests.length;
    const clip = createEmbeddingsClient(EmbeddingsHook.parse({ url: api.url, model: "clip", batchSize: 2 }));
    const vectors = await clip.embedTexts(["red", "blue", "green", "red blue"]);
    expect(api.requests.length - before).toBe(2);
    expect(cosineSimilarity(vectors[0]!, vectors[3]!)).toBeCloseTo(Math.SQRT1_2, 5);
    expect(cosineSimilarity(vectors[1]!, vectors[2]!)).toBe(0);
  });

  it("retries a 503 and gives up with engine_error after its retries, but never retries a 400", async () => {
    const clip = createEmbeddingsClient(EmbeddingsHook.parse({ url: api.url, model: "clip", maxRetries: 2 }));
    api.failNext(2, 503);
    expect((await clip.embedTexts(["red"]))[0]![0]).toBe(1);
    api.failNext(3, 503);
    await expect(clip.embedTexts(["red"])).rejects.toMatchObject({ code: "engine_error" });
    const before = api.requests.length;
    api.failNext(1, 400);
    await expect(clip.embedTexts(["red"])).rejects.toThrow(/HTTP 400/);
    expect(api.requests.length - before).toBe(1);
  });

  it("stops at once when the item's signal aborts", async () => {
    const clip = createEmbeddingsClient(EmbeddingsHook.parse({ url: api.url, model: "clip" }));
    const abort = new AbortController();
    abort.abort();
    await expect(clip.embedTexts(["red"], abort.signal)).rejects.toThrow(/aborted/);
  });
});

describe("chat hook", () => {
  it("sends image parts and returns the answer the server's rule gives", async () => {
    api.setChatRule(({ text, imageColours }) => `${imageColours[0]} / ${text}`);
    const chat = createChatClient(ChatHook.parse({ url: api.url, model: "vlm" }));
    const answer = await chat.complete([
      {
        role: "user",
        content: [imagePart(await solidImage(16, 16, [30, 180, 40], "jpeg")), textPart("Describe.")],
      },
    ]);
    expect(answer).toEqual({ text: "green / Describe.", finishReason: "stop" });
    expect(api.requests.at(-1)!.body).toMatchObject({ model: "vlm", temperature: 0, max_tokens: 512 });
  });

  it("treats a null content as an empty answer", async () => {
    api.setChatRule(() => null);
    const chat = createChatClient(ChatHook.parse({ url: api.url, model: "vlm" }));
    expect((await chat.complete([{ role: "user", content: "hi" }])).text).toBe("");
  });
});
