import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpointDir } from "../../model/checkpoint.ts";
import { presetConfig } from "../../model/config.ts";
import { toHfConfig } from "../../model/config-hf.ts";
import { initNamed } from "../../model/params.ts";
import { buildTinyTokenizerJson } from "../../model/tiny-tokenizer.ts";
import type { GenerationRequest } from "../model-client.ts";
import { createLocalModel, type LocalModelClient } from "./local.ts";

let dir: string;
let png: Uint8Array;
let model: LocalModelClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "glmv-local-"));
  const cfg = presetConfig("tiny");
  await saveCheckpointDir(join(dir, "ckpt"), {
    config: toHfConfig(cfg),
    tensors: initNamed(cfg, 5, 0.3),
    tokenizerJson: buildTinyTokenizerJson(),
  });
  const pixels = Buffer.alloc(60 * 44 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 251;
  png = new Uint8Array(
    await sharp(pixels, { raw: { width: 60, height: 44, channels: 3 } })
      .png()
      .toBuffer(),
  );
  await writeFile(join(dir, "img.png"), png);
  model = await createLocalModel(join(dir, "ckpt"), { answerTokens: 3, maxPixels: 2 * 56 * 56 });
});

afterAll(async () => {
  await model?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const request = (extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  prompt: "How many?",
  images: [{ path: join(dir, "img.png") }],
  thinking: true,
  maxTokens: 2,
  temperature: 0,
  seed: 1,
  ...extra,
});

describe("createLocalModel (local:DIR)", () => {
  it("names itself by folder and answers a request with an image file", async () => {
    expect(model.id).toBe(`local:${join(dir, "ckpt")}`);
    expect(model.settings).toMatchObject({ style: "4.1v", forceAnswerTokens: 3 });
    const out = await model.generate(request({ thinking: false, maxTokens: 4 }));
    expect(out.forcedAnswer).toBe(false);
    expect(out.completionTokens).toBeLessThanOrEqual(4);
    expect(["stop", "length"]).toContain(out.finishReason);
  });

  it("image bytes answer exactly as the same image from a file (greedy)", async () => {
    const fromFile = await model.generate(request({ maxTokens: 5, thinking: false }));
    const fromBytes = await model.generate(
      request({ maxTokens: 5, thinking: false, images: [{ bytes: png, mime: "image/png" }] }),
    );
    expect(fromBytes.text).toBe(fromFile.text);
  });

  it("a thought still open at maxTokens is force-answered by the model itself: forcedAnswer", async () => {
    const out = await model.generate(request());
    // the random tiny model never closes its thought in 2 tokens: </think><answer> is injected, then ≤ 3 more
    expect(out.forcedAnswer).toBe(true);
    expect(out.text).toContain("</think><answer>");
    expect(out.completionTokens).toBeLessThanOrEqual(2 + 2 + 3);
  });

  it("takes video frames (with timestamps) and an aborted signal", async () => {
    const video = { frames: [{ path: join(dir, "img.png") }, { bytes: png, mime: "image/png" }], seconds: 4 };
    const out = await model.generate(request({ images: [], video, thinking: false, maxTokens: 3 }));
    expect(out.completionTokens).toBeLessThanOrEqual(3);
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(model.generate(request({ signal: controller.signal }))).rejects.toThrow("cancelled");
  });
});
