/**
 * `exact-dedup`: byte-identical images across all shards (paper §3.1). When it opens, the stage indexes the SHA-256
 * of every input item's first image in input order (shard, then position; built once per run into the state
 * folder, see `state/input-index.ts`); an item is dropped iff an earlier item has the same bytes, naming the earliest.
 * The first copy in input order is kept whatever the timing, worker count or rerun.
 */
import { z } from "zod";
import { firstImage } from "../../image/decode.ts";
import { ExactHashIndex } from "../../image/hash-index.ts";
import { drop, keep, type StageDef } from "../../stage.ts";
import { notIndexed } from "../../state/input-index.ts";
import { indexPath } from "./common.ts";

export const ExactDedupOptions = z.strictObject({
  /** The index file (relative to the pipeline's folder); by default `exact-dedup.sqlite` in the state folder. */
  index: z.string().optional(),
});
export type ExactDedupOptions = z.infer<typeof ExactDedupOptions>;

export const exactDedup: StageDef<ExactDedupOptions> = {
  name: "exact-dedup",
  summary: "drop byte-identical images across all shards (SHA-256; the first copy in input order is kept)",
  options: ExactDedupOptions,
  async open(o, ctx) {
    const path = indexPath(o.index, ctx, "exact-dedup.sqlite");
    const index = await ExactHashIndex.open(path, () => ctx.scanInput());
    return {
      async process(item) {
        if (!firstImage(item)) return keep(item);
        const found = index.earlier(item.id);
        if (!found) throw notIndexed("exact-dedup", item.id, path);
        return found.kind === "duplicate" ? drop("exact_duplicate", `same bytes as ${found.of}`) : keep(item);
      },
      close: () => index.close(),
    };
  },
};
