import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { GenerationRequest } from "../eval/model-client.ts";
import { loadTinyTokenizer } from "../model/tokenizer.ts";
import type { TinkerTransport } from "../rl/engines/tinker/tinker-client.ts";
import { createTrainerApp } from "../serve/trainer-server.ts";
import { createTinkerModel } from "./eval-tinker.ts";
import { presetBackend } from "./serve-trainer.ts";

/** An in-process `glmv serve trainer` (bigram preset) reached without a socket, recording every call. */
async function trainer() {
  const app = createTrainerApp({ backend: await presetBackend("bigram"), pollWaitMs: 5 });
  const calls: { path: string; body: Record<string, unknown> }[] = [];
  const transport: TinkerTransport = (method, path, body) => {
    calls.push({ path, body: body as Record<string, unknown> });
    return app.request(method, path, body);
  };
  return { calls, transport };
}

const request = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: "1+2",
  images: [],
  thinking: true,
  maxTokens: 6,
  temperature: 1,
  seed: 3,
  ...over,
});

describe("tinker: models for glmv eval run", () => {
  it("opens a sampler on the trainer's base model and samples the rendered, tokenized prompt with an image", async () => {
    const { calls, transport } = await trainer();
    const model = await createTinkerModel(
      { kind: "tinker", url: "http://trainer" },
      { transport, forceAnswerTokens: 0 },
    );
    expect(model.id).toBe("tinker:http://trainer");
    const png = await sharp({ create: { width: 28, height: 28, channels: 3, background: "#5a5a5a" } })
      .png()
      .toBuffer();
    const out = await model.generate(request({ images: [{ bytes: png, mime: "image/png" }] }));
    expect(calls.map((c) => c.path).filter((p) => p !== "/api/v1/retrieve_future")).toEqual([
      "/api/v1/create_session",
      "/api/v1/get_server_capabilities",
      "/api/v1/create_sampling_session",
      "/api/v1/asample",
    ]);
    const asample = calls.find((c) => c.path === "/api/v1/asample")!.body;
    const chunks = (asample.prompt as { chunks: { type: string }[] }).chunks;
    expect(chunks.map((c) => c.type)).toEqual(["encoded_text", "image", "encoded_text"]);
    expect(asample.sampling_params).toMatchObject({ max_tokens: 6, temperature: 1, seed: 3 });
    expect(out.forcedAnswer).toBe(false);
    expect(out.completionTokens).toBeLessThanOrEqual(6);
    const tok = await loadTinyTokenizer();
    expect(out.text).toBe(tok.decode(tok.encode(out.text)));
  });

  it("a thinking sample cut by the budget is continued from its tokens plus </think><answer>", async () => {
    const { calls, transport } = await trainer();
    const model = await createTinkerModel(
      { kind: "tinker", url: "http://trainer" },
      { transport, forceAnswerTokens: 4 },
    );
    const out = await model.generate(request({ maxTokens: 2 }));
    const samples = calls.filter((c) => c.path === "/api/v1/asample").map((c) => c.body);
    expect(samples).toHaveLength(2);
    const tok = await loadTinyTokenizer();
    const [first, second] = samples.map((b) => (b.prompt as { chunks: { tokens?: number[] }[] }).chunks);
    const continued = second!.at(-1)!.tokens!;
    expect(second!.slice(0, -1)).toEqual(first);
    expect(continued.slice(-2)).toEqual([tok.special.thinkEnd, tok.special.answerStart]);
    expect(samples[1]!.sampling_params).toMatchObject({ max_tokens: 4 });
    expect(out.forcedAnswer).toBe(true);
    expect(out.text.startsWith(tok.decode(continued))).toBe(true);
  });

  it("a model path the trainer does not know is a bad_argument naming it", async () => {
    const { transport } = await trainer();
    await expect(
      createTinkerModel(
        { kind: "tinker", url: "http://trainer", model: "tinker://nope/sampler" },
        { transport },
      ),
    ).rejects.toMatchObject({
      code: "bad_argument",
      message: expect.stringContaining("tinker://nope/sampler"),
    });
  });
});
