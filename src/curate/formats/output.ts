/**
 * The final output of a shard under `OUT/output/`, in the format users asked for: JSONL with media files beside it
 * (`<shard>.jsonl` + `media/<shard>/`), Parquet in the Hugging Face layout (`images` = list of `{bytes, path}`), or
 * WebDataset tars. Each file is written whole to a temp name and renamed, so a crash never leaves half a file.
 */
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { tempSibling, writeFileAtomic } from "../../util/fs.ts";
import type { PipelineOutput } from "../pipeline.ts";
import type { CurateItem } from "../stage.ts";
import { mediaExtension } from "./media.ts";
import { packTar, type TarEntry } from "./tar.ts";

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** A name safe as one path segment (and as a WebDataset key: no dots). */
const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 120) || "_";

/** The parts (`00003` or `00003-0001`) a shard's items go into. */
function parts(shard: number, items: readonly CurateItem[], size: number | undefined) {
  if (size === undefined) return [{ stem: pad(shard, 5), items }];
  const out: { stem: string; items: readonly CurateItem[] }[] = [];
  for (let i = 0; i === 0 || i < items.length; i += size)
    out.push({ stem: `${pad(shard, 5)}-${pad(i / size, 4)}`, items: items.slice(i, i + size) });
  return out;
}

async function writeJsonl(dir: string, stem: string, items: readonly CurateItem[]): Promise<string[]> {
  const mediaDir = join(dir, "media", stem);
  const temp = tempSibling(mediaDir);
  await mkdir(temp, { recursive: true });
  const lines: string[] = [];
  for (const [n, item] of items.entries()) {
    const images: string[] = [];
    for (const [i, m] of item.media.entries()) {
      const name = `${pad(n, 6)}-${i}.${mediaExtension(m.bytes, m.name)}`;
      await writeFile(join(temp, name), m.bytes);
      images.push(`media/${stem}/${name}`);
    }
    lines.push(JSON.stringify({ ...item.fields, id: item.id, ...(images.length ? { images } : {}) }));
  }
  await rm(mediaDir, { recursive: true, force: true });
  if (lines.some((l) => l.includes('"images"'))) await rename(temp, mediaDir);
  else await rm(temp, { recursive: true, force: true });
  await writeFileAtomic(join(dir, `${stem}.jsonl`), lines.map((l) => `${l}\n`).join(""));
  return [`${stem}.jsonl`];
}

type Column = { name: string; data: unknown[] };

/** One column per field name (in first-seen order): strings, numbers and booleans typed, the rest as JSON. */
function fieldColumns(items: readonly CurateItem[]): {
  columns: Column[];
  schema: Record<string, unknown>[];
} {
  const names = [...new Set(items.flatMap((i) => Object.keys(i.fields)))].filter(
    (n) => n !== "id" && n !== "images",
  );
  const columns: Column[] = [];
  const schema: Record<string, unknown>[] = [];
  for (const name of names) {
    const values = items.map((i) => i.fields[name] ?? null);
    const present = values.filter((v) => v !== null);
    const all = (t: string) => present.every((v) => typeof v === t);
    const [type, extra] = all("string")
      ? ["BYTE_ARRAY", { converted_type: "UTF8" }]
      : all("boolean")
        ? ["BOOLEAN", {}]
        : all("number") && present.every((v) => Number.isFinite(v))
          ? ["DOUBLE", {}]
          : ["BYTE_ARRAY", { converted_type: "JSON" }];
    columns.push({ name, data: values });
    schema.push({ name, type, repetition_type: "OPTIONAL", ...extra });
  }
  return { columns, schema };
}

function parquetBytes(stem: string, items: readonly CurateItem[]): ArrayBuffer {
  const fields = fieldColumns(items);
  const schema = [
    { name: "root", num_children: 2 + fields.schema.length },
    { name: "id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    { name: "images", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", repetition_type: "OPTIONAL", num_children: 2 },
    { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
    { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
    ...fields.schema,
  ];
  const images = items.map((item) => item.media.map((m) => ({ bytes: m.bytes, path: m.name })));
  return parquetWriteBuffer({
    columnData: [
      { name: "id", data: items.map((i) => i.id) },
      { name: "images", data: images },
      ...fields.columns,
    ],
    schema: schema as never,
    kvMetadata: [{ key: "glmv.shard", value: stem }],
  } as never);
}

/** WebDataset members of an item: `<key>.json` (id, fields, media names) and `<key>.<ext>` (`<key>.<i>.<ext>`). */
function* webDatasetEntries(items: readonly CurateItem[]): Generator<TarEntry> {
  const used = new Set<string>();
  for (const [n, item] of items.entries()) {
    let key = safe(item.id);
    if (used.has(key)) key = `${key}_${n}`;
    used.add(key);
    const head = { ...item.fields, id: item.id, media: item.media.map((m) => m.name) };
    yield { name: `${key}.json`, data: Buffer.from(JSON.stringify(head)) };
    for (const [i, m] of item.media.entries()) {
      const ext = mediaExtension(m.bytes, m.name);
      yield { name: item.media.length === 1 ? `${key}.${ext}` : `${key}.${i}.${ext}`, data: m.bytes };
    }
  }
}

/**
 * Write shard `shard`'s final items into `dir` (replacing what an earlier run wrote for it); returns the file names.
 * @example await writeOutputShard(join(out, "output"), { format: "parquet" }, 3, items) // ["00003.parquet"]
 */
export async function writeOutputShard(
  dir: string,
  output: PipelineOutput,
  shard: number,
  items: readonly CurateItem[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const prefix = pad(shard, 5);
  for (const name of await readdir(dir))
    if (name.startsWith(prefix)) await rm(join(dir, name), { force: true });
  const mediaRoot = join(dir, "media");
  for (const name of await readdir(mediaRoot).catch(() => [] as string[]))
    if (name.startsWith(prefix)) await rm(join(mediaRoot, name), { recursive: true, force: true });
  const written: string[] = [];
  for (const { stem, items: part } of parts(shard, items, output.shardSize)) {
    if (output.format === "jsonl") written.push(...(await writeJsonl(dir, stem, part)));
    else if (output.format === "parquet") {
      await writeFileAtomic(join(dir, `${stem}.parquet`), new Uint8Array(parquetBytes(stem, part)));
      written.push(`${stem}.parquet`);
    } else {
      await writeFileAtomic(join(dir, `${stem}.tar`), await packTar(webDatasetEntries(part)));
      written.push(`${stem}.tar`);
    }
  }
  return written;
}
