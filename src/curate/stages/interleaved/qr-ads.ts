/**
 * `qr-ads`: ad and QR-code noise (paper §3.1's web-data cleaning; NeMo Curator's interleaved QR-code filter). An image
 * is noise when jsQR decodes a QR code in it (on the image and on a downscaled copy), when it has an ad unit's shape
 * (a small banner with an extreme aspect ratio, or an IAB standard size), or when it is a spacer or tracking pixel.
 * In an interleaved document the noisy image blocks go and the document stays (removals counted in
 * `fields.removedImages`); an image–text pair with a noisy image is dropped with the reason.
 */
import jsqr from "jsqr";
import sharp from "sharp";
import { z } from "zod";
import { imageMeta } from "../../image/decode.ts";
import { type CurateItem, type CurateMedia, drop, keep, type StageDef } from "../../stage.ts";
import { imageBlocks, readBlocks, removeImages } from "./document.ts";

export const QrAdsOptions = z.strictObject({
  /** Which QR codes make an image noise: any code, only codes that decode to a URL, or none (shape checks only). */
  qr: z.enum(["any", "url", "off"]).default("any"),
  /** The least fraction of the image area a code must cover (0: any code; NeMo Curator uses 0.05). */
  minQrArea: z.number().min(0).max(1).default(0),
  /** Decode at most this many pixels on the long side (a large photo is scaled down first: faster, same codes). */
  decodeMaxSide: z.number().int().min(64).default(1024),
  /** A banner: long side / short side at least this, with the short side at most `bannerMaxShortSide` pixels. */
  bannerAspect: z.number().min(1).default(4),
  bannerMaxShortSide: z.number().int().min(1).default(150),
  /** Drop images of the IAB standard ad sizes (728×90, 300×250, 160×600, …) to within 2 pixels. */
  adSizes: z.boolean().default(true),
  /** Images whose long side is below this are spacers and tracking pixels. */
  minSide: z.number().int().min(0).default(16),
});
export type QrAdsOptions = z.infer<typeof QrAdsOptions>;

/** The IAB standard display-ad units, width × height in pixels. */
const AD_SIZES: [number, number][] = [
  [728, 90],
  [970, 90],
  [970, 250],
  [468, 60],
  [234, 60],
  [320, 50],
  [320, 100],
  [300, 50],
  [300, 250],
  [336, 280],
  [300, 600],
  [160, 600],
  [120, 600],
  [120, 240],
];

/** Why an image is noise (a drop reason) and what showed it, or null when it is not. */
export type NoiseVerdict = { reason: "qr_code" | "ad_banner" | "tiny_image"; detail: string } | null;

/** A QR code found in an image: its text and the fraction of the image it covers. */
export type FoundQr = { text: string; area: number };

/** Judge one image; undecodable bytes are not this stage's business (null). */
export async function judgeImage(bytes: Uint8Array, options: QrAdsOptions): Promise<NoiseVerdict> {
  // Header only, memoised per bytes object: the pairs stages before this one may have read it already.
  const meta = await imageMeta(bytes).catch(() => null);
  if (!meta) return null;
  const { width, height } = meta;
  const shape = judgeShape(width, height, options);
  if (shape) return shape;
  if (options.qr === "off") return null;
  const found = await findQr(bytes, width, height, options.decodeMaxSide);
  if (!found || found.area < options.minQrArea) return null;
  if (options.qr === "url" && !looksLikeUrl(found.text)) return null;
  return {
    reason: "qr_code",
    detail: `QR code "${found.text.slice(0, 80)}" over ${(found.area * 100).toFixed(1)}% of the image`,
  };
}

/** The size checks alone: spacers and pixels, IAB ad units, and small banners. */
export function judgeShape(width: number, height: number, options: QrAdsOptions): NoiseVerdict {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long < options.minSide)
    return { reason: "tiny_image", detail: `${width}×${height} is a spacer or tracking pixel` };
  if (options.adSizes && AD_SIZES.some(([w, h]) => Math.abs(width - w) <= 2 && Math.abs(height - h) <= 2))
    return { reason: "ad_banner", detail: `${width}×${height} is an IAB ad size` };
  if (short > 0 && long / short >= options.bannerAspect && short <= options.bannerMaxShortSide)
    return {
      reason: "ad_banner",
      detail: `${width}×${height} is a banner (aspect ${(long / short).toFixed(1)})`,
    };
  return null;
}

/** Decode a QR code from the image, capped at `maxSide`, then from a copy at half that size (noise and moiré fade). */
export async function findQr(
  bytes: Uint8Array,
  width: number,
  height: number,
  maxSide: number,
): Promise<FoundQr | null> {
  const long = Math.max(width, height);
  const first = Math.min(long, maxSide);
  for (const side of [first, Math.round(first / 2)]) {
    if (side < 48) break; // below a version-1 code at two pixels per module with its quiet zone
    const { data, info } = await sharp(bytes)
      .rotate()
      .resize({ width: side, height: side, fit: "inside", withoutEnlargement: true })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // jsqr is CommonJS: Node's default import is its exports object, which carries the decoder as `default` too.
    const code = jsqr.default(
      new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
      info.width,
      info.height,
    );
    if (code) return { text: code.data, area: quadArea(code.location) / (info.width * info.height) };
  }
  return null;
}

type Point = { x: number; y: number };
function quadArea(q: {
  topLeftCorner: Point;
  topRightCorner: Point;
  bottomRightCorner: Point;
  bottomLeftCorner: Point;
}) {
  const p = [q.topLeftCorner, q.topRightCorner, q.bottomRightCorner, q.bottomLeftCorner];
  let twice = 0;
  for (let i = 0; i < 4; i++) {
    const a = p[i] as Point;
    const b = p[(i + 1) % 4] as Point;
    twice += a.x * b.y - b.x * a.y;
  }
  return Math.abs(twice) / 2;
}

/** A URL a code would send a phone to: a scheme with `//` (https://, weixin://) or a bare `www.` host. */
export const looksLikeUrl = (text: string): boolean =>
  /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text.trim()) || /^www\.\S+\.\S+$/i.test(text.trim());

const isPdf = (m: CurateMedia) => m.name.toLowerCase().endsWith(".pdf");

export const qrAds: StageDef<QrAdsOptions> = {
  name: "qr-ads",
  summary:
    "remove QR-code, ad-banner and tracking-pixel images (documents keep their other blocks; pairs are dropped)",
  options: QrAdsOptions,
  async open(options) {
    return {
      async process(item: CurateItem, ctx) {
        const read = readBlocks(item);
        if (read.kind === "bad") return drop("bad_blocks", read.detail);
        if (read.kind === "absent") {
          for (const media of item.media.filter((m) => !isPdf(m))) {
            ctx.signal.throwIfAborted();
            const verdict = await judgeImage(media.bytes, options);
            if (verdict) return drop(verdict.reason, `${media.name}: ${verdict.detail}`);
          }
          return keep(item);
        }
        const removals = new Map<string, string>();
        for (const block of imageBlocks(read.blocks)) {
          ctx.signal.throwIfAborted();
          const media = item.media.find((m) => m.name === block.media) as CurateMedia;
          const verdict = await judgeImage(media.bytes, options);
          if (verdict) removals.set(block.media, verdict.reason);
        }
        return keep(removeImages(item, read.blocks, removals));
      },
    };
  },
};
