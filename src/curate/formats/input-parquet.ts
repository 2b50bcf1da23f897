/**
 * Parquet input in the Hugging Face datasets layout: an `image` column of `{bytes, path}` structs (or `images`, a
 * list of them), an optional `id`, any other columns as fields. A file or a folder of files, sharded by row count.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { GlmvError } from "../../util/errors.ts";
import type { ParquetInput } from "../pipeline.ts";
import type { CurateItem, CurateMedia } from "../stage.ts";
import { filesFingerprint, type InputShards } from "./input-shards.ts";
import { jsonSafe, mediaExtension } from "./media.ts";

type Options = import("zod").infer<typeof ParquetInput>;
type ImageCell = { bytes?: Uint8Array | null; path?: string | null } | null;

async function parquetFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch((cause: unknown) => {
    throw new GlmvError("bad_input", `no such Parquet input ${path}`, { where: path, cause });
  });
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith(".parquet")).sort();
  if (names.length === 0)
    throw new GlmvError("bad_input", "no .parquet files in the input folder", { where: path });
  return names.map((n) => join(path, n));
}

function toMedia(cells: ImageCell[]): CurateMedia[] {
  return cells.flatMap((cell, i) => {
    if (!cell?.bytes) return [];
    const name = cell.path ? basename(cell.path) : `${i}.${mediaExtension(cell.bytes)}`;
    return [{ name, bytes: cell.bytes }];
  });
}

function rowToItem(row: Record<string, unknown>, fallbackId: string): CurateItem {
  const { id, image, images, ...rest } = row;
  const cells = (
    images !== undefined ? ((images as ImageCell[] | null) ?? []) : image ? [image] : []
  ) as ImageCell[];
  const itemId = id === undefined || id === null ? fallbackId : String(id);
  return { id: itemId, media: toMedia(cells), fields: jsonSafe(rest) as Record<string, unknown> };
}

export async function openParquetInput(options: Options, baseDir: string): Promise<InputShards> {
  const files = await parquetFiles(resolve(baseDir, options.path));
  const counts: number[] = [];
  for (const f of files) {
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(f)).catch((cause: unknown) => {
      throw new GlmvError("bad_input", `not a readable Parquet file: ${(cause as Error).message}`, {
        where: f,
      });
    });
    counts.push(Number(meta.num_rows));
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const size = options.shardSize;
  /** The files and row ranges shard `s` covers. */
  const spans = (shard: number) => {
    const out: { file: string; from: number; to: number; first: number }[] = [];
    let offset = 0;
    for (const [i, file] of files.entries()) {
      const from = Math.max(shard * size, offset) - offset;
      const to = Math.min((shard + 1) * size, offset + counts[i]!) - offset;
      if (to > from) out.push({ file, from, to, first: offset });
      offset += counts[i]!;
    }
    return out;
  };
  async function* readShard(shard: number): AsyncGenerator<CurateItem> {
    for (const { file, from, to } of spans(shard)) {
      const buffer = await asyncBufferFromFile(file);
      const rows = (await parquetReadObjects({
        file: buffer,
        compressors,
        utf8: false,
        rowStart: from,
        rowEnd: to,
      })) as Record<string, unknown>[];
      const stem = basename(file, extname(file));
      for (const [k, row] of rows.entries()) yield rowToItem(row, `${stem}-${from + k}`);
    }
  }
  return {
    shardCount: Math.ceil(total / size),
    readShard,
    fingerprint: (s) => filesFingerprint(spans(s).map((x) => x.file)),
  };
}
