import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { completion, type FakeHandler, type FakeServer, startFakeOpenAI } from "../fake-openai.fixture.ts";
import type { GenerationRequest } from "../model-client.ts";
import { ModelRequestError } from "../retry.ts";
import { OpenAIModelClient } from "./openai.ts";
import { DEFAULT_MAX_PIXELS, imageDataUrl } from "./openai-messages.ts";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: FakeHandler): Promise<FakeServer> {
  server = await startFakeOpenAI(handler);
  return server;
}

const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: "What is 2+2?",
  images: [],
  thinking: true,
  maxTokens: 8192,
  temperature: 0,
  seed: 7,
  ...over,
});

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .png()
    .toBuffer();
}

describe("OpenAIModelClient request bodies", () => {
  it("thinking on: enable_thinking true, no /nothink, max_tokens/temperature/seed, special tokens kept", async () => {
    const s = await serve(() => ({ json: completion("<think>2+2</think><answer>4</answer>") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "glm-4.1v", apiKey: "sk-test" });
    const out = await client.generate(request());
    expect(s.bodies).toEqual([
      {
        model: "glm-4.1v",
        messages: [{ role: "user", content: "What is 2+2?" }],
        max_tokens: 8192,
        temperature: 0,
        seed: 7,
        chat_template_kwargs: { enable_thinking: true },
        skip_special_tokens: false,
      },
    ]);
    expect(s.paths).toEqual(["/v1/chat/completions"]);
    expect(s.headers[0]!.authorization).toBe("Bearer sk-test");
    expect(out).toEqual({
      text: "<think>2+2</think><answer>4</answer>",
      finishReason: "stop",
      forcedAnswer: false,
      completionTokens: 5,
    });
  });

  it("thinking off in the 4.5V style appends /nothink and sends enable_thinking false", async () => {
    const s = await serve(() => ({ json: completion("4") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "glm-4.5v", style: "4.5v" });
    await client.generate(request({ thinking: false, maxTokens: 16, temperature: 0.5 }));
    expect(s.bodies[0]).toEqual({
      model: "glm-4.5v",
      messages: [{ role: "user", content: "What is 2+2?/nothink" }],
      max_tokens: 16,
      temperature: 0.5,
      seed: 7,
      chat_template_kwargs: { enable_thinking: false },
      skip_special_tokens: false,
    });
    expect(s.headers[0]!.authorization).toBeUndefined();
  });

  it("thinking off in the 4.1V style sends the switch but no /nothink", async () => {
    const s = await serve(() => ({ json: completion("4") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    await client.generate(request({ thinking: false }));
    expect(s.bodies[0]!.messages).toEqual([{ role: "user", content: "What is 2+2?" }]);
    expect(s.bodies[0]!.chat_template_kwargs).toEqual({ enable_thinking: false });
  });

  it("without server extras the body is plain OpenAI (for hosted APIs)", async () => {
    const s = await serve(() => ({ json: completion("4") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "gpt", serverExtras: false });
    await client.generate(request());
    expect(Object.keys(s.bodies[0]!).sort()).toEqual([
      "max_tokens",
      "messages",
      "model",
      "seed",
      "temperature",
    ]);
  });

  it("sends images (then video frames) as data-URL parts before the text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-openai-"));
    const file = join(dir, "a.png");
    const bytesA = await png(4, 3);
    writeFileSync(file, bytesA);
    const jpeg = await sharp(await png(2, 2))
      .jpeg()
      .toBuffer();
    const s = await serve(() => ({ json: completion("ok") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    await client.generate(
      request({
        images: [{ path: file }],
        video: { frames: [{ bytes: jpeg, mime: "image/jpeg" }] },
      }),
    );
    expect(s.bodies[0]!.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/png;base64,${bytesA.toString("base64")}` } },
          { type: "image_url", image_url: { url: `data:image/jpeg;base64,${jpeg.toString("base64")}` } },
          { type: "text", text: "What is 2+2?" },
        ],
      },
    ]);
  });

  it("puts separated reasoning back between <think> tags", async () => {
    const s = await serve(() => ({
      json: completion("<answer>4</answer>", "stop", { reasoning_content: "add" }),
    }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    expect((await client.generate(request())).text).toBe("<think>add</think><answer>4</answer>");
  });
});

describe("force-answering (paper §6)", () => {
  it("a reply cut inside thinking is continued with </think><answer> as the assistant prefix", async () => {
    const s = await serve((_body, n) =>
      n === 0
        ? { json: completion("<think>let me count 1, 2, 3", "length") }
        : { json: completion("4</answer>", "stop") },
    );
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m", forceAnswerTokens: 256 });
    const out = await client.generate(request({ maxTokens: 100 }));
    expect(s.bodies).toHaveLength(2);
    expect(s.bodies[1]).toEqual({
      model: "m",
      messages: [
        { role: "user", content: "What is 2+2?" },
        { role: "assistant", content: "<think>let me count 1, 2, 3</think><answer>" },
      ],
      max_tokens: 256,
      temperature: 0,
      seed: 7,
      chat_template_kwargs: { enable_thinking: true },
      skip_special_tokens: false,
      continue_final_message: true,
      add_generation_prompt: false,
    });
    expect(out).toEqual({
      text: "<think>let me count 1, 2, 3</think><answer>4</answer>",
      finishReason: "stop",
      forcedAnswer: true,
      completionTokens: 10,
    });
  });

  it("the 4.5V style injects </think> only; separated reasoning is the prefix's thinking", async () => {
    const s = await serve((_b, n) =>
      n === 0
        ? { json: completion("", "length", { reasoning_content: "hmm" }) }
        : { json: completion("<|begin_of_box|>4<|end_of_box|>") },
    );
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m", style: "4.5v" });
    const out = await client.generate(request());
    expect((s.bodies[1]!.messages as unknown[])[1]).toEqual({
      role: "assistant",
      content: "<think>hmm</think>",
    });
    expect(out.text).toBe("<think>hmm</think><|begin_of_box|>4<|end_of_box|>");
    expect(out.forcedAnswer).toBe(true);
  });

  it("no continuation when the cut comes after </think>, in non-thinking mode, or when turned off", async () => {
    const s = await serve(() => ({ json: completion("<think>a</think><answer>long answ", "length") }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    const out = await client.generate(request());
    expect(out).toMatchObject({ finishReason: "length", forcedAnswer: false });
    const off = new OpenAIModelClient({ baseUrl: s.url, model: "m", forceAnswerTokens: 0 });
    await off.generate(request());
    const nothink = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    await nothink.generate(request({ thinking: false }));
    expect(s.bodies).toHaveLength(3);
  });
});

describe("failures", () => {
  it("a 4xx is a ModelRequestError that is not retryable; a 5xx and a dropped connection are", async () => {
    const s = await serve((_b, n) => ({ status: n === 0 ? 400 : 503, json: { error: "no" } }));
    const client = new OpenAIModelClient({ baseUrl: s.url, model: "m" });
    const bad = await client.generate(request()).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ModelRequestError);
    expect(bad).toMatchObject({ status: 400, retryable: false });
    expect(await client.generate(request()).catch((e: unknown) => e)).toMatchObject({
      status: 503,
      retryable: true,
    });
    const url = s.url;
    await s.close();
    server = undefined;
    const gone = new OpenAIModelClient({ baseUrl: url, model: "m" });
    expect(await gone.generate(request()).catch((e: unknown) => e)).toMatchObject({ retryable: true });
  });
});

describe("image cap", () => {
  it("downscales an image above the pixel cap, keeping its aspect ratio", async () => {
    const url = await imageDataUrl({ bytes: await png(100, 50), mime: "image/png" }, 1250);
    const meta = await sharp(Buffer.from(url.split(",")[1]!, "base64")).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([50, 25, "png"]);
  });

  it("sends an image within the cap unchanged; the default cap is 6,144 image tokens", async () => {
    const bytes = await png(30, 20);
    expect(await imageDataUrl({ bytes, mime: "image/png" }, 600)).toBe(
      `data:image/png;base64,${bytes.toString("base64")}`,
    );
    expect(DEFAULT_MAX_PIXELS).toBe(6144 * 28 * 28);
  });

  it("an unreadable image file is image_invalid naming the file", async () => {
    await expect(imageDataUrl({ path: "/nonexistent/x.png" }, 10)).rejects.toMatchObject({
      code: "image_invalid",
      where: "/nonexistent/x.png",
    });
  });
});
