/** What every input reader gives: numbered shards, and a fingerprint of the files behind each. */
import { stat } from "node:fs/promises";
import type { CurateItem } from "../stage.ts";

export type InputShards = {
  shardCount: number;
  readShard(shard: number): AsyncIterable<CurateItem>;
  /** Size and mtime of the files shard `s` is read from ("" for generated input: its options are in the hash). */
  fingerprint(shard: number): Promise<string>;
};

/** `size:mtime` of each file, for a fingerprint. */
export async function filesFingerprint(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map(async (p) => {
      const s = await stat(p);
      return `${p}:${s.size}:${Math.round(s.mtimeMs)}`;
    }),
  );
  return parts.join("\n");
}
