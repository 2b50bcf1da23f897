/**
 * `image-text-ratio`: drop interleaved documents whose images per word fall outside bounds (paper §3.1's web-data
 * cleaning; NeMo Curator's image-to-text ratio filter): a gallery page with a few captions, or a long article with
 * no image left after the noise stages. Image–text pairs (no `blocks`) pass unchanged.
 */
import { z } from "zod";
import { drop, keep, type StageDef } from "../../stage.ts";
import { countWords, documentText, imageBlocks, readBlocks } from "./document.ts";

export const ImageTextRatioOptions = z
  .strictObject({
    /** Fewest images a document may keep (1 drops documents left with no image). */
    minImages: z.number().int().min(0).default(1),
    maxImages: z.number().int().min(0).optional(),
    /** Bounds on images per 100 words (a document without words counts as one word). */
    minImagesPer100Words: z.number().min(0).default(0),
    /** 20 = one image per five words: past that it is a gallery, not an article. */
    maxImagesPer100Words: z.number().min(0).default(20),
  })
  .refine((o) => o.maxImages === undefined || o.maxImages >= o.minImages, "maxImages must be ≥ minImages")
  .refine(
    (o) => o.maxImagesPer100Words >= o.minImagesPer100Words,
    "maxImagesPer100Words must be ≥ minImagesPer100Words",
  );
export type ImageTextRatioOptions = z.infer<typeof ImageTextRatioOptions>;

export const imageTextRatio: StageDef<ImageTextRatioOptions> = {
  name: "image-text-ratio",
  summary: "drop interleaved documents whose images per 100 words or image count are out of bounds",
  options: ImageTextRatioOptions,
  async open(options) {
    return {
      async process(item) {
        const read = readBlocks(item);
        if (read.kind === "absent") return keep(item);
        if (read.kind === "bad") return drop("bad_blocks", read.detail);
        const images = imageBlocks(read.blocks).length;
        const words = countWords(documentText(read.blocks));
        const per100 = (100 * images) / Math.max(words, 1);
        const detail = `${images} images, ${words} words (${per100.toFixed(2)} per 100 words)`;
        const tooFew = images < options.minImages || per100 < options.minImagesPer100Words;
        const tooMany =
          (options.maxImages !== undefined && images > options.maxImages) ||
          per100 > options.maxImagesPer100Words;
        if (tooFew || tooMany)
          return drop("bad_image_text_ratio", `${detail}: ${tooFew ? "too few" : "too many"} images`);
        return keep({ ...item, fields: { ...item.fields, imagesPer100Words: per100 } });
      },
    };
  },
};
