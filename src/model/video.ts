/**
 * GLM-V video processing and prompt placeholder expansion (model-spec.md §4.3–4.5): frame sampling at 2 fps
 * (≤ 300 s) or 600 evenly spread samples (longer), per-video smart resize over all frames together, patchify with
 * consecutive frame pairs, and the `<|image|>` / `<|video|>` expansion with integer-second timestamps.
 */
import { GlmvError } from "../util/errors.ts";
import { patchify, prepareFrame, type RawImage, roundHalfEven, smartResize } from "./processor.ts";
import { SPECIAL_TOKENS, type SpecialTokenIds } from "./special-tokens.ts";

/** The video processor's pixel budget: min 112², max 28·28·2·30000 over t̄·h̄·w̄ (all frames together). */
export const VIDEO_MIN_PIXELS = 12_544;
export const VIDEO_MAX_PIXELS = 47_040_000;
/** fps assumed for timestamps when the container does not say (HF warns and uses 24). */
export const DEFAULT_TIMESTAMP_FPS = 24;

export type VideoMetadata = { totalFrames: number; fps?: number; duration?: number };
export type GridThw = readonly [number, number, number];

/**
 * Frame indices to decode (Glm4vVideoProcessor.sample_frames): deduplicated in first-seen order, and made even
 * by repeating the last index.
 * @example
 * sampleFrameIndices({ totalFrames: 90, fps: 30 }); // [0, 15, 30, 45, 60, 75, 89, 89]
 */
export function sampleFrameIndices(
  meta: VideoMetadata,
  opts: { targetFps?: number; maxDuration?: number } = {},
): number[] {
  const targetFps = opts.targetFps ?? 2;
  const maxDuration = opts.maxDuration ?? 300;
  if (!(Number.isInteger(meta.totalFrames) && meta.totalFrames >= 1)) {
    throw new GlmvError("bad_input", `video needs at least one frame (got ${meta.totalFrames})`, {
      where: "video",
    });
  }
  const fps = meta.fps || 2.0;
  const maxIdx = meta.totalFrames - 1;
  const duration = meta.duration || roundHalfEven(maxIdx / fps) + 1;
  let raw: number[];
  if (duration <= maxDuration) {
    const n = Math.floor(duration * targetFps);
    raw = Array.from({ length: n }, (_, i) => Math.min(maxIdx, Math.ceil((i * fps) / targetFps)));
  } else {
    const samples = Math.trunc(maxDuration * targetFps);
    if (samples >= meta.totalFrames) raw = Array.from({ length: meta.totalFrames }, (_, i) => i);
    else {
      // numpy linspace(0, duration, samples, endpoint=True): k·step, with the last value exactly `duration`.
      const step = duration / (samples - 1);
      raw = Array.from({ length: samples }, (_, k) => {
        const t = k === samples - 1 ? duration : k * step;
        return Math.min(maxIdx, Math.ceil(t * fps));
      });
    }
  }
  const out = [...new Set(raw)];
  if (out.length === 0) out.push(0);
  if (out.length % 2 === 1) out.push(out.at(-1)!);
  return out;
}

/**
 * Seconds of the first frame of each temporal pair (`timestamps[::2]`), from frame indices and the video fps.
 * @example
 * patchTimestamps([0, 15, 30, 45], 30); // [0, 1]
 */
export function patchTimestamps(
  frameIndices: readonly number[],
  fps?: number,
  temporalPatchSize = 2,
): number[] {
  const f = fps || DEFAULT_TIMESTAMP_FPS;
  return frameIndices.filter((_, i) => i % temporalPatchSize === 0).map((idx) => idx / f);
}

export type ProcessedVideo = {
  /** [gridT·h/14·w/14, 1176]; each row holds two consecutive sampled frames. */
  pixelValues: Float32Array;
  gridThw: [number, number, number];
  /** `<|image|>` tokens per temporal patch: h·w / merge². */
  tokensPerPatch: number;
  resizedHw: [number, number];
};

/**
 * Resize (one size for all frames, budget over all frames), normalise and patchify sampled frames.
 * An odd frame count is padded by repeating the last frame. Frames of different sizes are `image_invalid`.
 * @example
 * const v = processVideo(frames); v.gridThw; // [frames.length / 2, h/14, w/14]
 */
export function processVideo(
  frames: readonly RawImage[],
  opts: {
    minPixels?: number;
    maxPixels?: number;
    patchSize?: number;
    mergeSize?: number;
    temporalPatchSize?: number;
  } = {},
): ProcessedVideo {
  const p = opts.patchSize ?? 14;
  const m = opts.mergeSize ?? 2;
  const tps = opts.temporalPatchSize ?? 2;
  const first = frames[0];
  if (!first) throw new GlmvError("image_invalid", "video has no frames", { where: "video" });
  frames.forEach((f, i) => {
    if (f.width !== first.width || f.height !== first.height) {
      throw new GlmvError(
        "image_invalid",
        `frame ${i} is ${f.width}x${f.height}, frame 0 is ${first.width}x${first.height}`,
        {
          where: "video",
        },
      );
    }
  });
  const count = Math.max(tps, Math.ceil(frames.length / tps) * tps);
  const [h, w] = smartResize(count, first.height, first.width, {
    factor: p * m,
    temporalFactor: tps,
    minPixels: opts.minPixels ?? VIDEO_MIN_PIXELS,
    maxPixels: opts.maxPixels ?? VIDEO_MAX_PIXELS,
  });
  const prepared = frames.map((f) => prepareFrame(f, h, w));
  const { pixelValues, gridThw } = patchify(prepared, h, w, {
    patchSize: p,
    mergeSize: m,
    temporalPatchSize: tps,
  });
  return { pixelValues, gridThw, tokensPerPatch: (gridThw[1] * gridThw[2]) / (m * m), resizedHw: [h, w] };
}

/** Grids for expansion, in prompt order. Video timestamps are per temporal patch (see `patchTimestamps`). */
export type MediaGrids = {
  images?: readonly GridThw[];
  videos?: readonly { gridThw: GridThw; timestamps: readonly number[] }[];
  mergeSize?: number;
};

type Piece =
  | { kind: "special"; name: "beginImage" | "endImage" }
  | { kind: "image"; count: number }
  | { kind: "text"; text: string };

/** The expansion as pieces: begin/end markers, runs of `<|image|>`, and timestamp text. */
function expansionPieces(kind: "image" | "video", grids: MediaGrids, index: number): Piece[] {
  const m2 = (grids.mergeSize ?? 2) ** 2;
  if (kind === "image") {
    const g = grids.images?.[index];
    if (!g)
      throw new GlmvError(
        "bad_input",
        `prompt has more ${SPECIAL_TOKENS.image} than images (${grids.images?.length ?? 0})`,
      );
    return [{ kind: "image", count: (g[0] * g[1] * g[2]) / m2 }];
  }
  const v = grids.videos?.[index];
  if (!v)
    throw new GlmvError(
      "bad_input",
      `prompt has more ${SPECIAL_TOKENS.video} than videos (${grids.videos?.length ?? 0})`,
    );
  const pieces: Piece[] = [];
  for (let k = 0; k < v.gridThw[0]; k++) {
    const ts = v.timestamps[k] ?? v.timestamps.at(-1) ?? 0;
    pieces.push({ kind: "special", name: "beginImage" });
    pieces.push({ kind: "image", count: (v.gridThw[1] * v.gridThw[2]) / m2 });
    pieces.push({ kind: "special", name: "endImage" });
    pieces.push({ kind: "text", text: String(Math.trunc(ts)) });
  }
  return pieces;
}

function checkAllUsed(grids: MediaGrids, images: number, videos: number): void {
  if (images !== (grids.images?.length ?? 0) || videos !== (grids.videos?.length ?? 0)) {
    throw new GlmvError(
      "bad_input",
      `prompt has ${images} images / ${videos} videos but ${grids.images?.length ?? 0} / ${grids.videos?.length ?? 0} were given`,
    );
  }
}

/** Tokenizer parts the id form of `expandPlaceholders` needs. */
export type PlaceholderTokenizer = {
  special: Pick<SpecialTokenIds, "image" | "video" | "beginImage" | "endImage">;
  encode(text: string): number[];
};

/**
 * Expand media placeholders: each `<|image|>` becomes t·h·w/4 `<|image|>`; each `<|video|>` becomes, per temporal
 * patch, `<|begin_of_image|>` + `<|image|>`×(h·w/4) + `<|end_of_image|>` + integer seconds. Works on rendered
 * text, or on token ids (then `tok` is needed to encode the timestamps). Placeholder and grid counts must match.
 * @example
 * expandPlaceholders("<|begin_of_image|><|image|><|end_of_image|>", { images: [[1, 4, 4]] });
 * // "<|begin_of_image|>" + "<|image|>".repeat(4) + "<|end_of_image|>"
 */
export function expandPlaceholders(text: string, grids: MediaGrids): string;
export function expandPlaceholders(
  ids: readonly number[],
  grids: MediaGrids,
  tok: PlaceholderTokenizer,
): number[];
export function expandPlaceholders(
  input: string | readonly number[],
  grids: MediaGrids,
  tok?: PlaceholderTokenizer,
): string | number[] {
  let images = 0;
  let videos = 0;
  const next = (kind: "image" | "video") =>
    expansionPieces(kind, grids, kind === "image" ? images++ : videos++);
  if (typeof input === "string") {
    const out = input.replace(/<\|image\|>|<\|video\|>/g, (match) =>
      next(match === SPECIAL_TOKENS.image ? "image" : "video")
        .map((p) =>
          p.kind === "text"
            ? p.text
            : p.kind === "special"
              ? SPECIAL_TOKENS[p.name]
              : SPECIAL_TOKENS.image.repeat(p.count),
        )
        .join(""),
    );
    checkAllUsed(grids, images, videos);
    return out;
  }
  if (!tok) throw new GlmvError("bad_argument", "expanding token ids needs a tokenizer");
  const out: number[] = [];
  for (const id of input) {
    if (id !== tok.special.image && id !== tok.special.video) {
      out.push(id);
      continue;
    }
    for (const p of next(id === tok.special.image ? "image" : "video")) {
      if (p.kind === "image") for (let i = 0; i < p.count; i++) out.push(tok.special.image);
      else if (p.kind === "special") out.push(tok.special[p.name]);
      else out.push(...tok.encode(p.text)); // timestamps sit between specials, so encoding them alone is exact
    }
  }
  checkAllUsed(grids, images, videos);
  return out;
}
