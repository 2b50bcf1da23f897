/**
 * `low-information`: solid-colour and near-uniform images (paper §3.1; blank renders, placeholder tiles, failed
 * downloads). Judged on the shared 64×64 thumbnail: the largest per-channel standard deviation (solid colour when
 * tiny, near-uniform when small), the entropy of the luma histogram, and how many distinct colours cover more than
 * a sliver of the image. Defaults are loose on purpose: a page of black text on white must pass.
 */
import { z } from "zod";
import { firstImage, imageThumbnail, type Thumbnail } from "../../image/decode.ts";
import { drop, keep, type StageDef } from "../../stage.ts";

export const LowInformationOptions = z.strictObject({
  /** Largest channel std (0–255) below which an image is one solid colour (JPEG noise stays under ~1.5). */
  solidMaxStd: z.number().min(0).default(3),
  /** Largest channel std below which an image is near-uniform. */
  minStd: z.number().min(0).default(6),
  /** Luma entropy in bits (64-bin histogram, 0–6) below which an image carries too little. */
  minEntropy: z.number().min(0).max(6).default(0.3),
  /** Fewer distinct colours (4 levels per channel) covering ≥ 0.5% of the image than this is low information. */
  minColours: z.number().int().min(1).default(2),
});
export type LowInformationOptions = z.infer<typeof LowInformationOptions>;

export type InformationStats = { maxStd: number; entropy: number; colours: number };

/**
 * Pixel statistics of a thumbnail.
 * @example
 * informationStats(await imageThumbnail(bytes)) // { maxStd: 0.4, entropy: 0, colours: 1 } for a solid image
 */
export function informationStats(thumb: Thumbnail): InformationStats {
  const { rgb } = thumb;
  const n = rgb.length / 3;
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  const luma = new Uint32Array(64);
  const colours = new Uint32Array(64);
  for (let p = 0; p < rgb.length; p += 3) {
    const r = rgb[p]!;
    const g = rgb[p + 1]!;
    const b = rgb[p + 2]!;
    sum[0]! += r;
    sum[1]! += g;
    sum[2]! += b;
    sumSq[0]! += r * r;
    sumSq[1]! += g * g;
    sumSq[2]! += b * b;
    luma[Math.min(63, Math.floor((0.299 * r + 0.587 * g + 0.114 * b) / 4))]!++;
    colours[((r >> 6) << 4) | ((g >> 6) << 2) | (b >> 6)]!++;
  }
  let maxStd = 0;
  for (let c = 0; c < 3; c++)
    maxStd = Math.max(maxStd, Math.sqrt(Math.max(0, sumSq[c]! / n - (sum[c]! / n) ** 2)));
  let entropy = 0;
  for (const count of luma) if (count > 0) entropy -= (count / n) * Math.log2(count / n);
  const colourCount = colours.filter((count) => count >= n * 0.005).length;
  return { maxStd, entropy, colours: colourCount };
}

/** A drop reason and detail for the statistics under these options, or null. */
export function judgeInformation(s: InformationStats, o: LowInformationOptions) {
  const said = `std ${s.maxStd.toFixed(1)}, entropy ${s.entropy.toFixed(2)} bits, ${s.colours} colours`;
  if (s.maxStd < o.solidMaxStd) return { reason: "solid_color", detail: said };
  if (s.maxStd < o.minStd || s.entropy < o.minEntropy || s.colours < o.minColours)
    return { reason: "low_information", detail: said };
  return null;
}

export const lowInformation: StageDef<LowInformationOptions> = {
  name: "low-information",
  summary: "drop solid-colour and near-uniform images (channel std, luma entropy, distinct colours)",
  options: LowInformationOptions,
  async open(o) {
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return keep(item);
        let thumb: Thumbnail;
        try {
          thumb = await imageThumbnail(image.bytes);
        } catch (e) {
          return drop("undecodable", `${image.name}: ${(e as Error).message}`);
        }
        const out = judgeInformation(informationStats(thumb), o);
        return out ? drop(out.reason, out.detail) : keep(item);
      },
    };
  },
};
