/**
 * A pipeline's input as numbered shards: `shardCount` and `readShard(s)`, the same items every time for a shard,
 * and a fingerprint of the files behind it (a changed input file reruns what was made from it).
 */
import type { Pipeline } from "../pipeline.ts";
import type { InputShards } from "./input-shards.ts";

export type { InputShards };

import { openJsonlInput } from "./input-jsonl.ts";
import { openParquetInput } from "./input-parquet.ts";
import { openWebDatasetInput } from "./input-webdataset.ts";

/**
 * Open the pipeline's input (files are listed and counted now; items are read per shard).
 * @example const input = await openInput(pipeline); for await (const item of input.readShard(0)) …
 */
export async function openInput(pipeline: Pipeline): Promise<InputShards> {
  const input = pipeline.input;
  if (input.kind === "generate") {
    const { def, options } = input;
    return {
      shardCount: def.shardCount(options),
      readShard: (s) => def.generate(options, s, { baseDir: pipeline.baseDir }),
      fingerprint: async () => "",
    };
  }
  if (input.format === "jsonl") return openJsonlInput(input, pipeline.baseDir);
  if (input.format === "parquet") return openParquetInput(input, pipeline.baseDir);
  return openWebDatasetInput(input, pipeline.baseDir);
}
