/**
 * GLM-V image processor (model-spec.md §4.1–4.2, reward-spec-official.md §2.3): smart resize to multiples of 28,
 * bicubic resize, rescale 1/255, CLIP normalisation, temporal duplication to 2 frames, and patchify into rows of
 * (C, T, 14, 14) in 2×2 merge-window order.
 *
 * Resize backend: a port of Pillow's separable BICUBIC resample on uint8 (a = −0.5, support widened when
 * downscaling, 22-bit fixed point, horizontal pass then vertical, each clipped to uint8). This is the slow
 * `Glm4vImageProcessor` path the parity fixture was made with, and it reproduces it bit for bit; sharp's `cubic`
 * kernel (libvips) differs by a few grey levels. The HF torchvision ("fast") path would differ slightly again.
 * sharp is used only to decode files.
 */
import sharp from "sharp";
import { GlmvError } from "../util/errors.ts";

/** OpenAI CLIP mean / std used by every GLM-V checkpoint. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** `Glm4vImageProcessor` class defaults (`size.shortest_edge` / `size.longest_edge`); a checkpoint's
 * preprocessor_config.json may lower the max (GLM-4.1V ships 9,633,792). Both bound t̄·h̄·w̄ with t̄ = 2. */
export const IMAGE_MIN_PIXELS = 12_544;
export const IMAGE_MAX_PIXELS = 11_760_000;
/** Largest decoded input accepted (Pillow's decompression-bomb limit). */
export const MAX_INPUT_PIXELS = 178_956_970;

export type SmartResizeOptions = {
  factor?: number;
  minPixels?: number;
  maxPixels?: number;
  temporalFactor?: number;
};

/** An 8-bit interleaved image. `channels`: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (alpha is dropped, as PIL does). */
export type RawImage = { data: Uint8Array; width: number; height: number; channels: number };

export type ImageProcessorOptions = {
  minPixels?: number;
  maxPixels?: number;
  patchSize?: number;
  mergeSize?: number;
  temporalPatchSize?: number;
  maxInputPixels?: number;
};

export type ProcessedImage = {
  /** [nPatches, C·T·p·p] = [h/14 · w/14, 1176], rows in merge-window order. */
  pixelValues: Float32Array;
  gridThw: [number, number, number];
  /** `<|image|>` tokens the image becomes: t·h·w / merge². */
  numImageTokens: number;
  resizedHw: [number, number];
};

const invalid = (message: string) => new GlmvError("image_invalid", message, { where: "image" });

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Target (height, width), multiples of `factor`, keeping the aspect ratio and t̄·h̄·w̄ within [min, max] pixels.
 * Sides under `factor` are first scaled up (newer transformers); aspect ratio > 200 is `image_invalid`.
 * @example
 * smartResize(2, 700, 1000, { minPixels: 12544, maxPixels: 9633792 }); // [700, 1008]
 */
export function smartResize(
  numFrames: number,
  height: number,
  width: number,
  opts: SmartResizeOptions = {},
): [number, number] {
  const factor = opts.factor ?? 28;
  const tf = opts.temporalFactor ?? 2;
  const minPixels = opts.minPixels ?? IMAGE_MIN_PIXELS;
  const maxPixels = opts.maxPixels ?? IMAGE_MAX_PIXELS;
  if (numFrames < tf) throw invalid(`${numFrames} frames is fewer than the temporal patch ${tf}`);
  if (!(height >= 1 && width >= 1)) throw invalid(`image too small: ${width}x${height}`);
  let h = height;
  let w = width;
  if (h < factor || w < factor) {
    const s = Math.max(factor / h, factor / w);
    h = Math.trunc(h * s);
    w = Math.trunc(w * s);
  }
  if (Math.max(h, w) / Math.min(h, w) > 200) {
    throw invalid(`image too thin: aspect ratio ${(Math.max(h, w) / Math.min(h, w)).toFixed(1)} exceeds 200`);
  }
  let hBar = roundHalfEven(h / factor) * factor;
  let wBar = roundHalfEven(w / factor) * factor;
  const tBar = roundHalfEven(numFrames / tf) * tf;
  if (tBar * hBar * wBar > maxPixels) {
    const beta = Math.sqrt((numFrames * h * w) / maxPixels);
    hBar = Math.max(factor, Math.floor(h / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(w / beta / factor) * factor);
  } else if (tBar * hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (numFrames * h * w));
    hBar = Math.ceil((h * beta) / factor) * factor;
    wBar = Math.ceil((w * beta) / factor) * factor;
  }
  return [hBar, wBar];
}

/** Drop alpha / expand grey to packed RGB (PIL `convert("RGB")`). */
export function toRgb(img: RawImage): Uint8Array {
  const { data, width, height, channels } = img;
  if (![1, 2, 3, 4].includes(channels)) throw invalid(`unsupported channel count ${channels}`);
  const n = width * height;
  if (data.length !== n * channels)
    throw invalid(`expected ${n * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`);
  if (channels === 3) return data;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const src = i * channels;
    const grey = channels <= 2;
    out[i * 3] = data[src]!;
    out[i * 3 + 1] = data[grey ? src : src + 1]!;
    out[i * 3 + 2] = data[grey ? src : src + 2]!;
  }
  return out;
}

const PRECISION_BITS = 22; // Pillow: 32 − 8 − 2
const bicubic = (x: number): number => {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
};

/** Fixed-point tap weights and first source index per output position (Pillow `precompute_coeffs`). */
function resampleCoeffs(inSize: number, outSize: number): { start: Int32Array; weights: number[][] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const start = new Int32Array(outSize);
  const weights: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const w: number[] = [];
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const k = bicubic((x - center + 0.5) / filterScale);
      w.push(k);
      sum += k;
    }
    start[o] = lo;
    weights.push(
      w
        .map((k) => (sum !== 0 ? k / sum : k))
        .map((k) => Math.trunc(k * 2 ** PRECISION_BITS + (k < 0 ? -0.5 : 0.5))),
    );
  }
  return { start, weights };
}

/** One separable pass over packed RGB; `horizontal` resamples x, otherwise y. Output is clipped uint8. */
function resamplePass(
  src: Uint8Array,
  w: number,
  h: number,
  outSize: number,
  horizontal: boolean,
): Uint8Array {
  const { start, weights } = resampleCoeffs(horizontal ? w : h, outSize);
  const outW = horizontal ? outSize : w;
  const outH = horizontal ? h : outSize;
  const out = new Uint8Array(outW * outH * 3);
  const half = 2 ** (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const k = weights[o]!;
      const s0 = start[o]!;
      for (let c = 0; c < 3; c++) {
        let acc = half;
        for (let i = 0; i < k.length; i++) {
          const idx = horizontal ? (y * w + s0 + i) * 3 + c : ((s0 + i) * w + x) * 3 + c;
          acc += src[idx]! * k[i]!;
        }
        out[(y * outW + x) * 3 + c] = Math.min(255, Math.max(0, Math.floor(acc / 2 ** PRECISION_BITS)));
      }
    }
  }
  return out;
}

/**
 * Bicubic resize of packed RGB uint8, bit-identical to Pillow's `Image.resize(size, BICUBIC)`.
 * @example
 * const small = resizeBicubic(rgb, 150, 100, 140, 112);
 */
export function resizeBicubic(rgb: Uint8Array, w: number, h: number, outW: number, outH: number): Uint8Array {
  let img = rgb;
  if (outW !== w) img = resamplePass(img, w, h, outW, true);
  if (outH !== h) img = resamplePass(img, outW, h, outH, false);
  return img;
}

/** Rescale 1/255 (in f64, stored f32) and normalise in f32, as the numpy processor does; channel-first [3, H, W]. */
export function normalizeRgb(rgb: Uint8Array, w: number, h: number): Float32Array {
  const n = w * h;
  const out = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(CLIP_MEAN[c]!);
    const std = Math.fround(CLIP_STD[c]!);
    for (let i = 0; i < n; i++) {
      const x = Math.fround(rgb[i * 3 + c]! * (1 / 255));
      out[c * n + i] = Math.fround(Math.fround(x - mean) / std);
    }
  }
  return out;
}

/**
 * Patchify channel-first frames [3, H, W] into rows (C, T, p, p), rows ordered (t, block-row, block-col,
 * inner-row, inner-col). The frame count is padded to a multiple of `temporalPatchSize` by repeating the last.
 */
export function patchify(
  frames: readonly Float32Array[],
  height: number,
  width: number,
  opts: { patchSize?: number; mergeSize?: number; temporalPatchSize?: number } = {},
): { pixelValues: Float32Array; gridThw: [number, number, number] } {
  const p = opts.patchSize ?? 14;
  const m = opts.mergeSize ?? 2;
  const tps = opts.temporalPatchSize ?? 2;
  if (frames.length === 0) throw invalid("no frames to patchify");
  const padded = [...frames];
  while (padded.length % tps !== 0) padded.push(padded.at(-1)!);
  const [gt, gh, gw] = [padded.length / tps, height / p, width / p];
  if (!Number.isInteger(gh / m) || !Number.isInteger(gw / m))
    throw invalid(`${height}x${width} is not a multiple of ${p * m}`);
  const rowLen = 3 * tps * p * p;
  const out = new Float32Array(gt * gh * gw * rowLen);
  const plane = height * width;
  let o = 0;
  for (let t = 0; t < gt; t++)
    for (let bh = 0; bh < gh / m; bh++)
      for (let bw = 0; bw < gw / m; bw++)
        for (let ih = 0; ih < m; ih++)
          for (let iw = 0; iw < m; iw++) {
            const r0 = (bh * m + ih) * p;
            const c0 = (bw * m + iw) * p;
            for (let c = 0; c < 3; c++)
              for (let tp = 0; tp < tps; tp++) {
                const f = padded[t * tps + tp]!;
                for (let py = 0; py < p; py++) {
                  const base = c * plane + (r0 + py) * width + c0;
                  for (let px = 0; px < p; px++) out[o++] = f[base + px]!;
                }
              }
          }
  return { pixelValues: out, gridThw: [gt, gh, gw] };
}

/** Decode an encoded image (PNG, JPEG, WebP, …) to 8-bit pixels; anything sharp cannot read is `image_invalid`. */
export async function decodeImage(bytes: Uint8Array, maxInputPixels = MAX_INPUT_PIXELS): Promise<RawImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxInputPixels })
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: info.channels,
    };
  } catch (e) {
    const msg = (e as Error).message;
    const tooLarge = /pixel limit/i.test(msg);
    throw new GlmvError(
      "image_invalid",
      tooLarge ? `image too large: ${msg}` : `cannot decode image: ${msg}`,
      { where: "image", cause: e },
    );
  }
}

/** Resize + normalise one frame to the given size (channel-first f32). */
export function prepareFrame(img: RawImage, outH: number, outW: number): Float32Array {
  return normalizeRgb(resizeBicubic(toRgb(img), img.width, img.height, outW, outH), outW, outH);
}

/**
 * Process a decoded image synchronously (see `processImage`).
 */
export function processRawImage(img: RawImage, opts: ImageProcessorOptions = {}): ProcessedImage {
  const maxInput = opts.maxInputPixels ?? MAX_INPUT_PIXELS;
  if (img.width * img.height > maxInput)
    throw invalid(`image too large: ${img.width}x${img.height} exceeds ${maxInput} pixels`);
  const p = opts.patchSize ?? 14;
  const m = opts.mergeSize ?? 2;
  const tps = opts.temporalPatchSize ?? 2;
  const [h, w] = smartResize(tps, img.height, img.width, {
    factor: p * m,
    temporalFactor: tps,
    minPixels: opts.minPixels ?? IMAGE_MIN_PIXELS,
    maxPixels: opts.maxPixels ?? IMAGE_MAX_PIXELS,
  });
  const frame = prepareFrame(img, h, w);
  const { pixelValues, gridThw } = patchify([frame], h, w, {
    patchSize: p,
    mergeSize: m,
    temporalPatchSize: tps,
  });
  return {
    pixelValues,
    gridThw,
    numImageTokens: (gridThw[0] * gridThw[1] * gridThw[2]) / (m * m),
    resizedHw: [h, w],
  };
}

/**
 * Image → `{ pixelValues [nPatches, 1176], gridThw [1, h/14, w/14], numImageTokens }`.
 * Input is encoded bytes (decoded with sharp) or raw 8-bit pixels. Bad input throws `image_invalid` naming the problem.
 * @example
 * const { gridThw, numImageTokens } = await processImage(await readFile("cat.png"));
 */
export async function processImage(
  input: Uint8Array | RawImage,
  opts: ImageProcessorOptions = {},
): Promise<ProcessedImage> {
  const img = input instanceof Uint8Array ? await decodeImage(input, opts.maxInputPixels) : input;
  return processRawImage(img, opts);
}
