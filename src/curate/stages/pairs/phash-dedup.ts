/**
 * `phash-dedup`: near-duplicate images across all shards (paper §3.1): resized, re-encoded or lightly recoloured
 * copies. When it opens, the stage indexes the 64-bit DCT pHash of every input item's first image in input order
 * (built once per run into the state folder; hashes a `phash` stage left in `fields.phash` are reused, others are
 * computed then). An item is dropped iff an earlier item is within `maxDistance` bits, naming the earliest; lookups
 * use multi-index hashing (under a millisecond at a million hashes). Kept items carry `fields.phash`.
 */
import { z } from "zod";
import { contentHash } from "../../image/content-hash.ts";
import { firstImage } from "../../image/decode.ts";
import { imageHashFields, MAX_DISTANCE, PhashIndex } from "../../image/hash-index.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { notIndexed } from "../../state/input-index.ts";
import { indexPath, withFields } from "./common.ts";

export const PhashDedupOptions = z.strictObject({
  /** Hashes this many bits apart or fewer are the same picture (re-encodes and 0.8× resizes land at 0–4). */
  maxDistance: z.number().int().min(0).max(MAX_DISTANCE).default(5),
  /** The index file (relative to the pipeline's folder); by default `phash-dedup.sqlite` in the state folder. */
  index: z.string().optional(),
});
export type PhashDedupOptions = z.infer<typeof PhashDedupOptions>;

export const phashDedup: StageDef<PhashDedupOptions> = {
  name: "phash-dedup",
  summary:
    "drop near-duplicate images across all shards (64-bit pHash within maxDistance bits of an earlier item)",
  options: PhashDedupOptions,
  async open(o, ctx) {
    const path = indexPath(o.index, ctx, "phash-dedup.sqlite");
    const index = await PhashIndex.open(path, o.maxDistance, () => ctx.scanInput());
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return keep(item);
        const found = index.earlier(item.id);
        if (!found) throw notIndexed("phash-dedup", item.id, path);
        if (found.kind === "error") return drop("undecodable", found.message);
        if (found.kind === "duplicate")
          return drop("near_duplicate", `${found.distance} bits from ${found.of}`);
        return keep(withFields(item, imageHashFields(contentHash(image.bytes), found.hash)));
      },
      close: () => index.close(),
    };
  },
};
