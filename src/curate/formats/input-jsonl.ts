/** JSONL + image folder input: one record per line with `id`, an image path (or list) field and other fields. */
import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { parseJsonl } from "../../eval/records.ts";
import { GlmvError } from "../../util/errors.ts";
import type { JsonlInput } from "../pipeline.ts";
import type { CurateItem } from "../stage.ts";
import { filesFingerprint, type InputShards } from "./input-shards.ts";
import { jsonSafe } from "./media.ts";

type Options = import("zod").infer<typeof JsonlInput>;

/** The record's image paths: the named field, else `images`, else `image`; a string or a list of strings. */
function imagePaths(record: Record<string, unknown>, field: string | undefined, where: string) {
  const key = field ?? (["images", "image"].find((k) => k in record) as string | undefined);
  if (key === undefined) return { key, paths: [] as string[] };
  const value = record[key];
  const paths = typeof value === "string" ? [value] : (value ?? []);
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string"))
    throw new GlmvError("bad_input", `field "${key}" must be an image path or a list of paths`, { where });
  return { key, paths: paths as string[] };
}

export async function openJsonlInput(options: Options, baseDir: string): Promise<InputShards> {
  const path = resolve(baseDir, options.path);
  const text = await readFile(path, "utf8").catch((cause: unknown) => {
    throw new GlmvError("bad_input", `cannot read input ${path}: ${(cause as Error).message}`, {
      where: path,
      cause,
    });
  });
  const records = parseJsonl(text, path);
  const imageDir = options.images ? resolve(baseDir, options.images) : dirname(path);
  const size = options.shardSize;
  async function* readShard(shard: number): AsyncGenerator<CurateItem> {
    for (let i = shard * size; i < Math.min(records.length, (shard + 1) * size); i++) {
      const record = records[i]!;
      const where = `${path}:record ${i + 1}`;
      const { key, paths } = imagePaths(record, options.imageField, where);
      const { id, ...rest } = record;
      if (typeof id !== "string" && typeof id !== "number")
        throw new GlmvError("bad_input", "each record needs an `id` (a string or number)", { where });
      if (key !== undefined) delete rest[key];
      const media = await Promise.all(
        paths.map(async (p) => {
          const file = isAbsolute(p) ? p : resolve(imageDir, p);
          const bytes = await readFile(file).catch((cause: unknown) => {
            throw new GlmvError("bad_input", `record ${id}: cannot read image ${file}`, { where, cause });
          });
          return { name: basename(p), bytes: new Uint8Array(bytes) };
        }),
      );
      yield { id: String(id), media, fields: jsonSafe(rest) as Record<string, unknown> };
    }
  }
  return {
    shardCount: Math.ceil(records.length / size),
    readShard,
    fingerprint: () => filesFingerprint([path]),
  };
}
