/**
 * How many `<|image|>` placeholders an image becomes under a model config (what a Tinker client must announce as
 * an image chunk's `expected_tokens`), by the same processing the model's own inputs get (`processImageFor`).
 */
import type { GlmvConfig } from "./config.ts";
import { processImageFor } from "./encode.ts";
import type { RawImage } from "./processor.ts";

/**
 * The image placeholder count glmv's processor gives `img` under `cfg` (for `TinkerPolicy`'s `imageTokens`).
 * @example TinkerPolicy.create({ …, imageTokens: presetImageTokens(presetConfig("tiny")) }); // 56×56 → 4
 */
export function presetImageTokens(cfg: GlmvConfig): (img: RawImage) => number {
  return (img) => {
    const [t, h, w] = processImageFor(cfg, img).grid;
    return (t * h * w) / cfg.vision.spatialMergeSize ** 2;
  };
}
