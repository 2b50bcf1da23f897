/**
 * Image decoding shared by the image stages: header metadata (cheap, no pixel decode) and one small RGB thumbnail
 * per image, made once and reused by every stage that needs pixels (low-information statistics, the perceptual hash).
 * Both are memoised per bytes object, so a pipeline of image stages decodes each image once.
 */
import sharp from "sharp";
import type { CurateItem, CurateMedia } from "../stage.ts";

/** The side of the square thumbnail every pixel statistic is computed on (the phash takes its 32×32 from it). */
export const THUMB_SIDE = 64;

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|tiff?|bmp|heic)$/i;

/** What the header says about an image, with width and height as displayed (EXIF rotation applied). */
export type ImageMeta = { width: number; height: number; format: string };

/** A `THUMB_SIDE`² RGB thumbnail (stretched to fill, so every image gives the same pixel count). */
export type Thumbnail = { rgb: Uint8Array; side: number };

/**
 * The first media entry that is an image by its name (`0.jpg`), or undefined.
 * @example
 * const image = firstImage(item); if (!image) return drop("no_image");
 */
export function firstImage(item: CurateItem): CurateMedia | undefined {
  return item.media.find((m) => IMAGE_NAME.test(m.name));
}

const metaCache = new WeakMap<Uint8Array, Promise<ImageMeta>>();
const thumbCache = new WeakMap<Uint8Array, Promise<Thumbnail>>();

/**
 * The image's format and displayed size from its header; rejects if the bytes are not an image sharp can read.
 * @example
 * const { width, height } = await imageMeta(bytes);
 */
export function imageMeta(bytes: Uint8Array): Promise<ImageMeta> {
  let meta = metaCache.get(bytes);
  if (!meta) {
    meta = readMeta(bytes);
    metaCache.set(bytes, meta);
  }
  return meta;
}

async function readMeta(bytes: Uint8Array): Promise<ImageMeta> {
  const m = await sharp(bytes).metadata();
  if (!m.width || !m.height) throw new Error(`image has no size (format ${m.format ?? "unknown"})`);
  // EXIF orientations 5–8 are a quarter turn: the displayed width is the stored height.
  const turned = (m.orientation ?? 1) >= 5;
  return {
    width: turned ? m.height : m.width,
    height: turned ? m.width : m.height,
    format: m.format ?? "unknown",
  };
}

/**
 * The image's `THUMB_SIDE`² RGB thumbnail (alpha flattened on white, EXIF rotation applied). JPEGs use libjpeg's
 * shrink-on-load, so this costs far less than a full decode; rejects on truncated or corrupt data.
 * @example
 * const { rgb } = await imageThumbnail(bytes); // rgb.length === 64 * 64 * 3
 */
export function imageThumbnail(bytes: Uint8Array): Promise<Thumbnail> {
  let thumb = thumbCache.get(bytes);
  if (!thumb) {
    thumb = readThumbnail(bytes);
    thumbCache.set(bytes, thumb);
  }
  return thumb;
}

async function readThumbnail(bytes: Uint8Array): Promise<Thumbnail> {
  const { data, info } = await sharp(bytes, { failOn: "error" })
    .rotate()
    .flatten({ background: "#ffffff" })
    .resize(THUMB_SIDE, THUMB_SIDE, { fit: "fill" })
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after flatten, got ${info.channels}`);
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), side: THUMB_SIDE };
}

/**
 * Grayscale (BT.601 luma) of a thumbnail, box-downsampled by `factor` (1 keeps the size).
 * @example
 * const gray32 = grayOf(await imageThumbnail(bytes), 2); // 32×32
 */
export function grayOf(thumb: Thumbnail, factor = 1): Float64Array {
  const { rgb, side } = thumb;
  const out = side / factor;
  const gray = new Float64Array(out * out);
  const norm = 1 / (factor * factor);
  for (let y = 0; y < side; y++) {
    const row = Math.floor(y / factor) * out;
    for (let x = 0; x < side; x++) {
      const p = (y * side + x) * 3;
      gray[row + Math.floor(x / factor)]! +=
        (0.299 * rgb[p]! + 0.587 * rgb[p + 1]! + 0.114 * rgb[p + 2]!) * norm;
    }
  }
  return gray;
}
