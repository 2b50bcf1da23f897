/** Test helpers for pipeline runs: write a pipeline file that loads the toy stages, and read a folder's bytes. */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

export const TOY_MODULE = fileURLToPath(new URL("./toy-stages.ts", import.meta.url));

export const tempDir = (prefix = "glmv-curate-") => mkdtempSync(join(tmpdir(), prefix));

/** Write `pipeline` (with the toy module added) as YAML in `dir`; returns the file's path. */
export function writePipeline(
  dir: string,
  pipeline: Record<string, unknown>,
  name = "pipeline.yaml",
): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ modules: [TOY_MODULE], workers: 2, ...pipeline }));
  return path;
}

/** Every file under `dir` with its bytes, by relative path (for byte-for-byte comparisons of outputs). */
export function folderBytes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path).toString("base64");
    }
  };
  walk(dir);
  return out;
}

/** The JSONL lines of a file as objects. */
export const readJsonl = (path: string): Record<string, unknown>[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
