/**
 * `exact-dedup`: byte-identical images across all shards (paper §3.1). The SHA-256 of each item's first image is
 * claimed in a SQLite index in the state folder shared by every shard and task; the first item to claim a hash
 * keeps it, later ones are dropped naming it, and an item finding its own id (a rerun) is kept.
 */
import { z } from "zod";
import { contentHash } from "../../image/content-hash.ts";
import { firstImage } from "../../image/decode.ts";
import { ExactHashIndex } from "../../image/hash-index.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { indexPath } from "./common.ts";

export const ExactDedupOptions = z.strictObject({
  /** The index file (relative to the pipeline's folder); by default `exact-dedup.sqlite` in the state folder. */
  index: z.string().optional(),
});
export type ExactDedupOptions = z.infer<typeof ExactDedupOptions>;

export const exactDedup: StageDef<ExactDedupOptions> = {
  name: "exact-dedup",
  summary:
    "drop byte-identical images across all shards (SHA-256 in a shared SQLite index; first claimant wins)",
  options: ExactDedupOptions,
  async open(o, ctx) {
    const index = new ExactHashIndex(indexPath(o.index, ctx, "exact-dedup.sqlite"));
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return keep(item);
        const claim = index.claim(item.id, contentHash(image.bytes));
        return claim.kind === "duplicate" ? drop("exact_duplicate", `same bytes as ${claim.of}`) : keep(item);
      },
      close: () => index.close(),
    };
  },
};
