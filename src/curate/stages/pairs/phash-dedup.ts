/**
 * `phash-dedup`: near-duplicate images across all shards (paper §3.1): resized, re-encoded or lightly recoloured
 * copies. Each image's 64-bit DCT pHash is claimed in a SQLite index in the state folder shared by every shard and
 * task (multi-index hashing: a look-up stays under a millisecond at a million hashes). The earliest claim within
 * `maxDistance` bits wins; an item finding its own id (a rerun) is kept. The hash goes in `fields.phash`.
 */
import { z } from "zod";
import { firstImage } from "../../image/decode.ts";
import { MAX_DISTANCE, PhashIndex } from "../../image/hash-index.ts";
import { hashToHex, phash64 } from "../../image/phash.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
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
    "drop near-duplicate images across all shards (64-bit pHash, Hamming threshold, shared SQLite index)",
  options: PhashDedupOptions,
  async open(o, ctx) {
    const index = new PhashIndex(indexPath(o.index, ctx, "phash-dedup.sqlite"), o.maxDistance);
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return keep(item);
        let hash: bigint;
        try {
          hash = await phash64(image.bytes);
        } catch (e) {
          return drop("undecodable", `${image.name}: ${(e as Error).message}`);
        }
        const claim = index.claim(item.id, hash);
        if (claim.kind === "duplicate")
          return drop("near_duplicate", `${claim.distance} bits from ${claim.of}`);
        return keep(withFields(item, { phash: hashToHex(hash) }));
      },
      close: () => index.close(),
    };
  },
};
