/**
 * What the tiny backend's model and samplers share (tiny-backend.ts, tiny-sampler.ts): its settings with defaults
 * filled in, and a Tinker model input expanded as the model sees it (image chunks run through glmv's processor).
 */
import type { GlmvConfig } from "../model/config.ts";
import { concatFloat32, processImageFor } from "../model/encode.ts";
import type { GridThw } from "../model/position-ids.ts";
import { decodeImage } from "../model/processor.ts";
import type { GlmvTokenizer } from "../model/tokenizer.ts";
import type { ModelInputChunk } from "../rl/engines/tinker/tinker-protocol.ts";
import { GlmvError } from "../util/errors.ts";

/** The tiny backend's settings (`TinyBackendOptions` with its defaults). */
export type TinySettings = {
  cfg: GlmvConfig;
  tok: GlmvTokenizer;
  batchSize: number;
  promptLen: number;
  context: number;
  imagesPerRow: number;
  scoreRows: number;
};

/** A model input as the model sees it: ids with image placeholders expanded, patch rows and grids. */
export type Expanded = { ids: number[]; pixels: Float32Array; grids: GridThw[] };

/**
 * Expand a Tinker model input: text chunks as they are, each image chunk decoded and processed, its placeholder
 * count checked against `expected_tokens`.
 */
export async function expandChunks(
  s: Pick<TinySettings, "cfg" | "tok">,
  chunks: readonly ModelInputChunk[],
): Promise<Expanded> {
  const ids: number[] = [];
  const pixels: Float32Array[] = [];
  const grids: GridThw[] = [];
  const m2 = s.cfg.vision.spatialMergeSize ** 2;
  for (const c of chunks) {
    if (c.type === "encoded_text") {
      ids.push(...c.tokens);
      continue;
    }
    const img = await decodeImage(new Uint8Array(Buffer.from(c.data, "base64")));
    const { pixels: rows, grid } = processImageFor(s.cfg, img);
    const count = (grid[0] * grid[1] * grid[2]) / m2;
    if (c.expected_tokens !== undefined && c.expected_tokens !== count) {
      throw new GlmvError(
        "bad_input",
        `image becomes ${count} tokens, expected_tokens says ${c.expected_tokens}`,
      );
    }
    ids.push(...new Array<number>(count).fill(s.tok.special.image));
    pixels.push(rows);
    grids.push(grid);
  }
  return { ids, pixels: concatFloat32(pixels), grids };
}
