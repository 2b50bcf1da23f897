/**
 * Test helpers for pipeline runs: write a pipeline file that loads the toy stages, read a folder's bytes, and kill a
 * run part-way.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { GLMV_BIN } from "../../helpers/spawn-glmv.ts";

export const TOY_MODULE = fileURLToPath(new URL("./toy-stages.ts", import.meta.url));

export const tempDir = (prefix = "glmv-curate-") => mkdtempSync(join(tmpdir(), prefix));

/** Write `pipeline` as YAML in `dir`; returns the file's path. */
export function writePipelineYaml(
  dir: string,
  pipeline: Record<string, unknown>,
  name = "pipeline.yaml",
): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(pipeline));
  return path;
}

/** Write `pipeline` (with the toy module added) as YAML in `dir`; returns the file's path. */
export function writePipeline(
  dir: string,
  pipeline: Record<string, unknown>,
  name = "pipeline.yaml",
): string {
  return writePipelineYaml(dir, { modules: [TOY_MODULE], workers: 2, ...pipeline }, name);
}

/** Write `records` as JSONL, one line each. */
export const writeJsonl = (path: string, records: readonly unknown[]): void =>
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join("\n"));

/** One stage of a finished run's summary.json: name, items in, kept, drop counts by reason. */
export type SummaryStage = [name: string, itemsIn: number, kept: number, dropped: Record<string, number>];

/** The stages of the summary.json a finished run wrote under `out`, as rows to compare. */
export function summaryStages(out: string): SummaryStage[] {
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as {
    stages: { name: string; in: number; kept: number; dropped: Record<string, number> }[];
  };
  return summary.stages.map((s) => [s.name, s.in, s.kept, s.dropped]);
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

/**
 * Start `glmv ...args` and SIGKILL it once `ready()` holds (polled every 20 ms), before it could finish; rejects if
 * the command ends first. Resolves once the process has exited.
 */
export async function killGlmvWhen(args: readonly string[], ready: () => boolean): Promise<void> {
  const child = spawn(process.execPath, [GLMV_BIN, ...args], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (!ready()) return;
      clearInterval(poll);
      child.kill("SIGKILL");
      resolve();
    }, 20);
    child.once("exit", () => {
      clearInterval(poll);
      reject(new Error(`glmv ${args.join(" ")} ended before it could be killed`));
    });
  });
  await exited;
}
