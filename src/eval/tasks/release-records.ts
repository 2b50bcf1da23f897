/**
 * What the task loaders share: finding a release's files (one file, a folder of Hugging Face hub Parquet shards, or
 * the JSON/JSONL/Parquet files of a folder and its sub-folders), reading them with image bytes intact, reading record fields with errors that
 * name the file and field, and finding an image among the places a release puts it.
 */
import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { type BenchRecord, readRecords } from "../records.ts";
import type { EvalImage } from "../types.ts";

/** A record with the file it came from and where in it (`file:[i]`), for error messages and relative images. */
export type SourcedRecord = { record: BenchRecord; where: string; file: string };

/**
 * The files to read for `path`: the file itself, or a folder's Parquet shards in name order (the `validation-*`
 * shards where there are any, since the test splits of DocVQA/InfoVQA/TextVQA carry no answers; else `test-*`;
 * else all of them).
 */
export async function releaseShards(path: string): Promise<string[]> {
  if (!existsSync(path)) throw new GlmvError("not_found", `no such file or folder: ${path}`, { where: path });
  if (!statSync(path).isDirectory()) return [path];
  const shards = (await readdir(path)).filter((f) => extname(f).toLowerCase() === ".parquet").sort();
  const pick = (prefix: string) => shards.filter((f) => f.startsWith(prefix));
  const chosen =
    pick("validation").length > 0 ? pick("validation") : pick("test").length > 0 ? pick("test") : shards;
  if (chosen.length === 0)
    throw new GlmvError("not_found", "no .parquet files in the folder", { where: path });
  return chosen.map((f) => join(path, f));
}

/** Records of one release file (JSON, JSONL or Parquet with image bytes kept; see `readRecords`), each with its place. */
export async function readReleaseRecords(file: string): Promise<SourcedRecord[]> {
  const records = await readRecords(file);
  return records.map((record, i) => ({ record, where: `${file}:[${i}]`, file }));
}

/** The `data` array of a JSON release shaped `{ "dataset_name": …, "data": [ … ] }` (DocVQA, InfoVQA, TextVQA). */
export async function readDataArray(file: string): Promise<SourcedRecord[]> {
  const text = await readFile(file, "utf8").catch((cause: unknown) => {
    throw new GlmvError("io_error", `cannot read ${file}`, { where: file, cause });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (cause) {
    throw new GlmvError("bad_input", `not valid JSON: ${(cause as Error).message}`, { where: file });
  }
  const data = Array.isArray(parsed) ? parsed : (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data))
    throw new GlmvError("bad_input", "expected a `data` array of records", { where: file });
  return data.map((record, i) => {
    const where = `${file}:data[${i}]`;
    if (!record || typeof record !== "object" || Array.isArray(record)) {
      throw new GlmvError("bad_input", "expected an object", { where });
    }
    return { record: record as BenchRecord, where, file };
  });
}

/** A required string field (a number is taken as its text, as Python's `str()` would). */
export function stringField(record: BenchRecord, field: string, where: string): string {
  const value = record[field];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  throw new GlmvError("bad_input", `field '${field}' must be a string, got ${describe(value)}`, { where });
}

/** An optional string field: absent or null → undefined; otherwise as `stringField`. */
export function optionalString(record: BenchRecord, field: string, where: string): string | undefined {
  return record[field] === undefined || record[field] === null
    ? undefined
    : stringField(record, field, where);
}

/** A required non-empty list of strings (hub `Sequence(string)` columns, JSON arrays). */
export function stringList(record: BenchRecord, field: string, where: string): string[] {
  const value = record[field];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value;
  throw new GlmvError(
    "bad_input",
    `field '${field}' must be a non-empty list of strings, got ${describe(value)}`,
    {
      where,
    },
  );
}

/** An optional, possibly empty list of strings (absent or null → []). */
export function optionalStringList(record: BenchRecord, field: string, where: string): string[] {
  const value = record[field];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new GlmvError("bad_input", `field '${field}' must be a list of strings, got ${describe(value)}`, {
    where,
  });
}

/** The first of `candidates` that exists, else the first (the release's documented layout), as an image. */
export function imageAt(candidates: string[]): EvalImage {
  return { path: candidates.find((p) => existsSync(p)) ?? (candidates[0] as string) };
}

/** The `response` of a saved-output record (`glmv eval score`), or an error naming the line. */
export function responseOf(record: BenchRecord, line: number): string {
  const response = record.response;
  if (typeof response === "string") return response;
  throw new GlmvError("bad_input", `field 'response' must be a string, got ${describe(response)}`, {
    where: `line ${line}`,
  });
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : typeof value;
}

const RELEASE_EXTS = new Set([".parquet", ".jsonl", ".json"]);

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && RELEASE_EXTS.has(extname(e.name).toLowerCase()))
    .map((e) => join(dir, e.name))
    .sort();
}

/**
 * The release files under `path`: the file itself, or the JSON / JSONL / Parquet files in the folder, else in its
 * sub-folders one level down (the hub's `data/*.parquet`, ScreenSpot-Pro's `annotations/*.json`), sorted by path.
 * @example await releaseFiles("RefCOCO") // ["RefCOCO/data/test-00000-of-00001.parquet", "RefCOCO/data/val-…"]
 */
export async function releaseFiles(path: string): Promise<string[]> {
  if (!existsSync(path))
    throw new GlmvError("not_found", `no benchmark file or folder at ${path}`, { where: path });
  if (!statSync(path).isDirectory()) return [path];
  const top = await filesIn(path);
  if (top.length > 0) return top;
  const subdirs = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const nested = (await Promise.all(subdirs.sort().map((d) => filesIn(join(path, d))))).flat();
  if (nested.length > 0) return nested;
  throw new GlmvError("bad_input", "no .parquet, .jsonl or .json release file in the folder", {
    where: path,
  });
}

/** The first path that exists, or null. */
export function firstExisting(candidates: readonly string[]): string | null {
  return candidates.find((p) => existsSync(p)) ?? null;
}
