/**
 * The run folder's shard store. Level 0 holds the input as read, level k the output of stage k; each shard of each
 * level is a tar of items plus a done-marker JSON written last (counts, the hash of the config that made it and of
 * the input it was made from), so a shard either is finished or is redone.
 *
 *   OUT/shards/00-input/s00000.tar  s00000.json
 *   OUT/shards/01-<stage>/s00000.tar  s00000.json  s00000.dropped.tar (a capped sample of dropped items)
 *   OUT/shards/output/s00000.json   (the final output's marker; the files are in OUT/output/)
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../util/fs.ts";
import { type NotedItem, packItems, readItems } from "../formats/item-tar.ts";
import { sha256 } from "../pipeline.ts";
import type { CurateItem } from "../stage.ts";

export const ShardMarker = z.object({
  level: z.int(),
  name: z.string(),
  shard: z.int(),
  /** The chain hash of the config that made the shard (input config, then each stage's options up to this one). */
  configHash: z.string(),
  /** A hash of what the shard was made from: the input files' fingerprint, or the previous level's `outputSha256`. */
  inputDigest: z.string(),
  outputSha256: z.string(),
  in: z.int(),
  kept: z.int(),
  dropped: z.record(z.string(), z.int()),
  seconds: z.number(),
  /** Output files (the final output's marker only). */
  files: z.array(z.string()).optional(),
});
export type ShardMarker = z.infer<typeof ShardMarker>;

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The folder name of level `k`: `00-input`, `01-min-size`, …; `output` for the final output's markers. */
export function levelName(level: number | "output", stageNames: readonly string[]): string {
  if (level === "output") return "output";
  if (level === 0) return "00-input";
  return `${pad(level, 2)}-${stageNames[level - 1]!.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

export type ShardStore = ReturnType<typeof shardStore>;

/**
 * The store under `out` for a pipeline with these stage names (in order).
 * @example const store = shardStore("runs/a", ["min-size"]); await store.marker(1, 0)
 */
export function shardStore(out: string, stageNames: readonly string[]) {
  const dir = (level: number | "output") => join(out, "shards", levelName(level, stageNames));
  const file = (level: number | "output", shard: number, suffix: string) =>
    join(dir(level), `s${pad(shard, 5)}${suffix}`);
  return {
    out,
    dir,
    shardPath: (level: number, shard: number) => file(level, shard, ".tar"),
    droppedPath: (level: number, shard: number) => file(level, shard, ".dropped.tar"),
    markerPath: (level: number | "output", shard: number) => file(level, shard, ".json"),

    /** The shard's marker, or undefined when it is not finished (or the marker is unreadable). */
    async marker(level: number | "output", shard: number): Promise<ShardMarker | undefined> {
      const text = await readFile(file(level, shard, ".json"), "utf8").catch(() => undefined);
      if (text === undefined) return undefined;
      try {
        return ShardMarker.parse(JSON.parse(text));
      } catch {
        return undefined;
      }
    },

    /** Write a finished shard: its items, its dropped sample, then its marker (each atomically, the marker last). */
    async commit(
      level: number,
      shard: number,
      kept: readonly CurateItem[],
      droppedSample: readonly NotedItem[],
      marker: Omit<ShardMarker, "outputSha256" | "level" | "shard">,
    ): Promise<ShardMarker> {
      await mkdir(dir(level), { recursive: true });
      const bytes = await packItems(kept.map((item) => ({ item, note: {} })));
      await writeFileAtomic(file(level, shard, ".tar"), bytes);
      if (level > 0)
        await writeFileAtomic(file(level, shard, ".dropped.tar"), await packItems(droppedSample));
      const done: ShardMarker = { ...marker, level, shard, outputSha256: sha256(bytes) };
      await writeFileAtomic(file(level, shard, ".json"), `${JSON.stringify(done, null, 2)}\n`);
      return done;
    },

    async writeOutputMarker(shard: number, marker: ShardMarker): Promise<void> {
      await mkdir(dir("output"), { recursive: true });
      await writeFileAtomic(file("output", shard, ".json"), `${JSON.stringify(marker, null, 2)}\n`);
    },

    /** The items of one finished shard. */
    async *items(level: number, shard: number): AsyncGenerator<CurateItem> {
      for await (const { item } of readItems(file(level, shard, ".tar"))) yield item;
    },

    /** The dropped sample of one shard, each with its `reason` and `detail`. */
    dropped: (level: number, shard: number) => readItems(file(level, shard, ".dropped.tar")),

    /** Every item of a level over all shards, in shard order (a stage's `scanInput`). */
    async *scan(level: number, shardCount: number): AsyncGenerator<CurateItem> {
      for (let s = 0; s < shardCount; s++)
        for await (const { item } of readItems(file(level, s, ".tar"))) yield item;
    },
  };
}
