/**
 * The interleaved document of `glmv data` (paper §3.1: web pages in MINT/MMC4/OmniCorpus style, book and PDF pages):
 * an item whose `fields.blocks` lists text and images in reading order. An image block names one of the item's media
 * entries; the media hold the image bytes. Blocks may carry more keys than these (a page box, a relevance score, a
 * knowledge label): stages add their own and keep the others.
 *
 * @example
 * { id: "doc-1", media: [{ name: "0.jpg", bytes }],
 *   fields: { blocks: [{ type: "text", text: "The Nile…" }, { type: "image", media: "0.jpg" }] } }
 */
import { z } from "zod";
import type { CurateItem } from "../../stage.ts";

/** A box on a page in PDF points, origin at the top left: [xMin, yMin, xMax, yMax]. */
export const PageBox = z.tuple([z.number(), z.number(), z.number(), z.number()]);
export type PageBox = z.infer<typeof PageBox>;

export const TextBlock = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
  box: PageBox.optional(),
});
export type TextBlock = z.infer<typeof TextBlock>;

export const ImageBlock = z.looseObject({
  type: z.literal("image"),
  /** The name of a media entry of the same item. */
  media: z.string().min(1),
  box: PageBox.optional(),
  /** The web page's alt text, when there was one. */
  alt: z.string().optional(),
});
export type ImageBlock = z.infer<typeof ImageBlock>;

export const Block = z.discriminatedUnion("type", [TextBlock, ImageBlock]);
export type Block = z.infer<typeof Block>;

export const Blocks = z.array(Block);

/** What reading an item's blocks gave: not an interleaved item, a malformed one (with why), or its blocks. */
export type ReadBlocks =
  | { kind: "absent" }
  | { kind: "bad"; detail: string }
  | { kind: "ok"; blocks: Block[] };

/**
 * Read and check `fields.blocks`: every image block must name a media entry of the item. Items without `blocks` are
 * `absent` (image–text pairs): each stage says what it does with them.
 */
export function readBlocks(item: CurateItem): ReadBlocks {
  if (item.fields.blocks === undefined) return { kind: "absent" };
  const parsed = Blocks.safeParse(item.fields.blocks);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: "bad",
      detail: `fields.blocks.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
    };
  }
  const names = new Set(item.media.map((m) => m.name));
  const missing = parsed.data.find((b) => b.type === "image" && !names.has(b.media));
  if (missing?.type === "image")
    return { kind: "bad", detail: `image block names media "${missing.media}" the item lacks` };
  return { kind: "ok", blocks: parsed.data };
}

/** The document's text: its text blocks joined by blank lines, in reading order. */
export function documentText(blocks: Block[]): string {
  return blocks
    .filter((b): b is TextBlock => b.type === "text")
    .map((b) => b.text)
    .join("\n\n");
}

export const imageBlocks = (blocks: Block[]): ImageBlock[] =>
  blocks.filter((b): b is ImageBlock => b.type === "image");

/**
 * The item with some image blocks removed (media name → drop reason), the media no block names any more dropped, and
 * the removals counted by reason in `fields.removedImages` (added to what earlier stages counted there).
 */
export function removeImages(item: CurateItem, blocks: Block[], removals: Map<string, string>): CurateItem {
  if (removals.size === 0) return item;
  const kept = blocks.filter((b) => b.type !== "image" || !removals.has(b.media));
  const stillNamed = new Set(imageBlocks(kept).map((b) => b.media));
  const counts = { ...readRemovedCounts(item.fields.removedImages) };
  for (const b of blocks) {
    const reason = b.type === "image" ? removals.get(b.media) : undefined;
    if (reason !== undefined) counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return {
    ...item,
    media: item.media.filter((m) => stillNamed.has(m.name) || !removals.has(m.name)),
    fields: { ...item.fields, blocks: kept, removedImages: counts },
  };
}

function readRemovedCounts(value: unknown): Record<string, number> {
  const parsed = z.record(z.string(), z.number()).safeParse(value);
  return parsed.success ? parsed.data : {};
}

/** Words in text: whitespace-separated runs, and each CJK character on its own (those scripts do not use spaces). */
export function countWords(text: string): number {
  return (
    text.match(
      /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[^\s\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu,
    )?.length ?? 0
  );
}
