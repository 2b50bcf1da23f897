/**
 * `image-relevance`: image–article relevance (paper §3.1: web images kept only when their CLIP score with the
 * article is high enough; NeMo Curator's interleaved CLIP-score filter). Each image of an interleaved document is
 * embedded with the document's text through an OpenAI-style `/v1/embeddings` server; an image whose best cosine
 * similarity reaches `minScore` stays (its score in the block's `relevance`), the others are removed as
 * `irrelevant_image`. What the image is compared with is `context`:
 * - `blocks`: every text block, best one wins (NeMo Curator's rule);
 * - `nearest`: the `window` text blocks before and after the image (a caption, the paragraph it illustrates);
 * - `document`: the whole text, cut to `maxChars`.
 * A document left with no image is kept unless `dropWithoutImages` (then `no_relevant_images`). Images of a document
 * without text, and image–text pairs, pass unchanged (`clip-filter` judges pairs).
 */
import { z } from "zod";
import { cosineSimilarity, createEmbeddingsClient, EmbeddingsHook } from "../../hooks/embeddings.ts";
import { type CurateMedia, drop, keep, type StageDef } from "../../stage.ts";
import { type Block, type ImageBlock, readBlocks, removeImages } from "./document.ts";

export const ImageRelevanceOptions = z.strictObject({
  hook: EmbeddingsHook,
  /** NeMo Curator's default for CLIP ViT-L/14 image–paragraph pairs; the scale depends on the model, so set yours. */
  minScore: z.number().min(-1).max(1).default(0.15),
  context: z.enum(["blocks", "nearest", "document"]).default("blocks"),
  /** Text blocks on each side of an image in `nearest` mode. */
  window: z.number().int().min(1).default(2),
  /** Each text sent is cut to this many characters (CLIP reads 77 tokens; longer texts only cost bandwidth). */
  maxChars: z.number().int().min(1).default(2000),
  dropWithoutImages: z.boolean().default(false),
});
export type ImageRelevanceOptions = z.infer<typeof ImageRelevanceOptions>;

/** For each image block (by position in `blocks`), the indices into `texts` it is compared with. */
export function contextOf(
  blocks: Block[],
  options: Pick<ImageRelevanceOptions, "context" | "window" | "maxChars">,
) {
  const textAt = blocks.flatMap((b, i) => (b.type === "text" && b.text.trim() ? [i] : []));
  if (options.context === "document") {
    const whole = textAt.map((i) => (blocks[i] as { text: string }).text).join("\n\n");
    return {
      texts: textAt.length ? [whole.slice(0, options.maxChars)] : [],
      pick: (_image: number) => (textAt.length ? [0] : []),
    };
  }
  const texts = textAt.map((i) => (blocks[i] as { text: string }).text.slice(0, options.maxChars));
  if (options.context === "blocks") return { texts, pick: (_image: number) => texts.map((_, k) => k) };
  return {
    texts,
    pick(image: number) {
      const before = textAt.flatMap((at, k) => (at < image ? [k] : [])).slice(-options.window);
      const after = textAt.flatMap((at, k) => (at > image ? [k] : [])).slice(0, options.window);
      return [...before, ...after];
    },
  };
}

export const imageRelevance: StageDef<ImageRelevanceOptions> = {
  name: "image-relevance",
  summary:
    "remove document images whose embedding similarity with the text is under minScore (embeddings hook)",
  options: ImageRelevanceOptions,
  async open(options) {
    const clip = createEmbeddingsClient(options.hook);
    return {
      async process(item, { signal }) {
        const read = readBlocks(item);
        if (read.kind === "absent") return keep(item);
        if (read.kind === "bad") return drop("bad_blocks", read.detail);
        const blocks = read.blocks;
        const images = blocks.flatMap((b, i) => (b.type === "image" ? [{ block: b, at: i }] : []));
        const { texts, pick } = contextOf(blocks, options);
        if (images.length === 0 || texts.length === 0) return keep(item);
        const media = (b: ImageBlock) => (item.media.find((m) => m.name === b.media) as CurateMedia).bytes;
        const [imageVectors, textVectors] = await Promise.all([
          clip.embedImages(
            images.map((i) => media(i.block)),
            signal,
          ),
          clip.embedTexts(texts, signal),
        ]);
        const scored = [...blocks];
        const removals = new Map<string, string>();
        images.forEach(({ block, at }, k) => {
          const scores = pick(at).map((t) =>
            cosineSimilarity(imageVectors[k] as Float32Array, textVectors[t] as Float32Array),
          );
          const relevance = scores.length ? Math.max(...scores) : Number.NEGATIVE_INFINITY;
          if (relevance < options.minScore) removals.set(block.media, "irrelevant_image");
          else scored[at] = { ...block, relevance };
        });
        const out = removeImages({ ...item, fields: { ...item.fields, blocks: scored } }, scored, removals);
        const left = (out.fields.blocks as Block[]).some((b) => b.type === "image");
        if (!left && options.dropWithoutImages)
          return drop("no_relevant_images", `none of ${images.length} images reached ${options.minScore}`);
        return keep(out);
      },
    };
  },
};
