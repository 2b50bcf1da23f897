/**
 * `clip-filter`: image–caption agreement (paper §3.1's CLIP-score filtering, as in LAION and DataComp): the cosine
 * similarity of the image's and the caption's embeddings from an OpenAI-style `/v1/embeddings` server (Infinity,
 * vLLM's embedding mode) below `minScore` drops the pair. The score goes in `fields.clipScore`.
 */
import { z } from "zod";
import { cosineSimilarity, createEmbeddingsClient, EmbeddingsHook } from "../../hooks/embeddings.ts";
import { firstImage } from "../../image/decode.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { textField, withFields } from "./common.ts";

export const ClipFilterOptions = z.strictObject({
  hook: EmbeddingsHook,
  /** The field holding the caption. */
  field: z.string().default("caption"),
  /** DataComp keeps pairs above ~0.28 with OpenAI CLIP ViT-L/14; the scale depends on the model, so set yours. */
  minScore: z.number().min(-1).max(1).default(0.28),
});
export type ClipFilterOptions = z.infer<typeof ClipFilterOptions>;

export const clipFilter: StageDef<ClipFilterOptions> = {
  name: "clip-filter",
  summary: "drop pairs whose image–caption embedding cosine similarity is under minScore (embeddings hook)",
  options: ClipFilterOptions,
  async open(o) {
    const clip = createEmbeddingsClient(o.hook);
    return {
      async process(item, { signal }) {
        const image = firstImage(item);
        if (!image) return keep(item);
        const caption = textField(item, o.field);
        if (!caption.trim()) return drop("low_clip_score", "no caption to compare the image with");
        const [[imageVector], [textVector]] = await Promise.all([
          clip.embedImages([image.bytes], signal),
          clip.embedTexts([caption], signal),
        ]);
        const clipScore = cosineSimilarity(imageVector!, textVector!);
        if (clipScore < o.minScore)
          return drop("low_clip_score", `similarity ${clipScore.toFixed(3)} under ${o.minScore}`);
        return keep(withFields(item, { clipScore }));
      },
    };
  },
};
