/**
 * `phash`: each item's first image hashed where the work runs in parallel (every worker, every shard), so that a
 * later `exact-dedup` / `phash-dedup`, which index their whole input in one builder, read the hashes instead of
 * decoding every image there. Writes `fields.sha256` (of the image's bytes) and `fields.phash` (64-bit DCT pHash,
 * 16 hex digits); the dedup stages trust `phash` only while `sha256` still matches the bytes.
 */
import { z } from "zod";
import { contentHash } from "../../image/content-hash.ts";
import { firstImage } from "../../image/decode.ts";
import { imageHashFields, phashFromFields } from "../../image/hash-index.ts";
import { phash64 } from "../../image/phash.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { withFields } from "./common.ts";

export const PhashOptions = z.strictObject({});
export type PhashOptions = z.infer<typeof PhashOptions>;

export const phashStage: StageDef<PhashOptions> = {
  name: "phash",
  summary: "hash each first image (fields.sha256, fields.phash) in parallel, for the dedup stages to reuse",
  options: PhashOptions,
  async open() {
    return {
      async process(item) {
        const image = firstImage(item);
        if (!image) return keep(item);
        const sha256 = contentHash(image.bytes);
        if (phashFromFields(item, sha256) !== null) return keep(item);
        try {
          return keep(withFields(item, imageHashFields(sha256, await phash64(image.bytes))));
        } catch (e) {
          return drop("undecodable", `${image.name}: ${(e as Error).message}`);
        }
      },
    };
  },
};
