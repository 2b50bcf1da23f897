/**
 * Test helper: a tiny random glmv checkpoint folder (config.json, safetensors, the tiny tokenizer) and small PNGs,
 * for the tests that load a real model in another process (`glmv serve model`, `glmv eval run`).
 */
import { writeFile } from "node:fs/promises";
import sharp from "sharp";
import { saveCheckpointDir } from "../../src/model/checkpoint.ts";
import { type PresetName, presetConfig } from "../../src/model/config.ts";
import { toHfConfig } from "../../src/model/config-hf.ts";
import { initNamed } from "../../src/model/params.ts";
import { buildTinyTokenizerJson } from "../../src/model/tiny-tokenizer.ts";

/** Write a tiny checkpoint to `dir` (weights at std 0.3, so greedy answers differ from prompt to prompt). */
export async function writeTinyCheckpoint(dir: string, preset: PresetName = "tiny", seed = 5): Promise<void> {
  const cfg = presetConfig(preset);
  await saveCheckpointDir(dir, {
    config: toHfConfig(cfg),
    tensors: initNamed(cfg, seed, 0.3),
    tokenizerJson: buildTinyTokenizerJson(),
  });
}

/** A PNG of a `width`×`height` RGB pattern that depends on `salt` (so images differ). */
export async function patternPng(width: number, height: number, salt = 0): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + salt * 101) % 251;
  return await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Write `patternPng` to `path`. */
export async function writePatternPng(path: string, width: number, height: number, salt = 0): Promise<void> {
  await writeFile(path, await patternPng(width, height, salt));
}
