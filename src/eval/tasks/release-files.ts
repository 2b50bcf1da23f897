/** Finding a benchmark's release files and media on disk (shared by the grounding and video tasks). */
import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";

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
