/**
 * `image-bounds`: resolution and aspect-ratio bounds on an item's first image (paper §3.1's pair filtering; LAION
 * and DataComp drop thumbnails and panoramas the same way). Reads the header for the size and decodes a small
 * thumbnail to be sure the image is whole (truncated files fail here, not in training).
 */
import { z } from "zod";
import { firstImage, imageMeta, imageThumbnail } from "../../image/decode.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { withFields } from "./common.ts";

export const ImageBoundsOptions = z.strictObject({
  /** The shorter side must be at least this many pixels. */
  minSide: z.number().int().min(1).default(64),
  /** The longer side must be at most this many pixels. */
  maxSide: z.number().int().min(1).default(8192),
  /** Longer side / shorter side at most this (4: a 1024×256 banner still passes, 1200×200 does not). */
  maxAspect: z.number().min(1).default(4),
  /** Width × height at least this. */
  minPixels: z.number().int().min(0).default(0),
  /** Width × height at most this (40 MP: beyond it a decode costs more than the item is worth). */
  maxPixels: z.number().int().min(1).default(40_000_000),
  /** Decode a thumbnail to check the pixels are whole, not only the header. */
  decode: z.boolean().default(true),
  /** An item with no image is dropped as `no_image` (true) or passed through (false). */
  requireImage: z.boolean().default(true),
});
export type ImageBoundsOptions = z.infer<typeof ImageBoundsOptions>;

/** Why a size is out of bounds (a drop reason and detail), or null. */
export function judgeBounds(width: number, height: number, o: ImageBoundsOptions) {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const size = `${width}×${height}`;
  if (short < o.minSide) return { reason: "too_small", detail: `${size}: shorter side under ${o.minSide}` };
  if (width * height < o.minPixels)
    return { reason: "too_small", detail: `${size}: under ${o.minPixels} pixels` };
  if (long > o.maxSide) return { reason: "too_large", detail: `${size}: longer side over ${o.maxSide}` };
  if (width * height > o.maxPixels)
    return { reason: "too_large", detail: `${size}: over ${o.maxPixels} pixels` };
  if (long / short > o.maxAspect)
    return {
      reason: "bad_aspect",
      detail: `${size}: aspect ${(long / short).toFixed(2)} over ${o.maxAspect}`,
    };
  return null;
}

export const imageBounds: StageDef<ImageBoundsOptions> = {
  name: "image-bounds",
  summary: "drop images out of size, pixel-count and aspect-ratio bounds, and images that do not decode",
  options: ImageBoundsOptions,
  async open(o) {
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return o.requireImage ? drop("no_image", "the item has no image") : keep(item);
        let width: number;
        let height: number;
        try {
          ({ width, height } = await imageMeta(image.bytes));
        } catch (e) {
          return drop("undecodable", `${image.name}: ${(e as Error).message}`);
        }
        const out = judgeBounds(width, height, o);
        if (out) return drop(out.reason, out.detail);
        if (o.decode) {
          try {
            await imageThumbnail(image.bytes);
          } catch (e) {
            return drop("undecodable", `${image.name}: ${(e as Error).message}`);
          }
        }
        return keep(withFields(item, { width, height }));
      },
    };
  },
};
