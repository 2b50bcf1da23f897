/**
 * A `glmv data` pipeline file: where items come from (`input`), where they go (`output`) and the stages between.
 * Loaded from YAML and validated strictly at load time, each stage's options by that stage's own schema, so every
 * mistake is one line naming the field path (`stages.3.minSide`) and the file's line before any work starts.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { GlmvError } from "../util/errors.ts";
import { readYamlFile } from "../util/yaml-file.ts";
import { type ConfigPath, parseOrThrow, type ZodLineContext } from "../util/zod-error.ts";
import type { AnySourceDef, AnyStageDef } from "./stage.ts";

const shardSize = z.int().min(1).default(1000);

export const JsonlInput = z.strictObject({
  format: z.literal("jsonl"),
  /** A JSONL file: one record per line with `id`, an image path (or list) field, and any other fields. */
  path: z.string().min(1),
  /** The folder image paths are relative to; default the JSONL's own folder. */
  images: z.string().min(1).optional(),
  /** The record field holding the image path or list of paths; default `images`, else `image`. */
  imageField: z.string().min(1).optional(),
  shardSize,
});

export const ParquetInput = z.strictObject({
  format: z.literal("parquet"),
  /** A `.parquet` file or a folder of them (the Hugging Face datasets layout), read in name order. */
  path: z.string().min(1),
  shardSize,
});

export const WebDatasetInput = z.strictObject({
  format: z.literal("webdataset"),
  /** A folder of `.tar` shards, or a glob of them (`data/shard-*.tar`): one tar is one shard. */
  path: z.string().min(1),
});

const FileInput = z.discriminatedUnion("format", [JsonlInput, ParquetInput, WebDatasetInput]);
export type FileInput = z.infer<typeof FileInput>;

/** `{ generate: <source>, ...its options }`: items made by a source, its options parsed by its own schema. */
export type GenerateInput = { generate: string; options: unknown };

export const OUTPUT_FORMATS = ["jsonl", "parquet", "webdataset"] as const;
export const PipelineOutput = z.strictObject({
  format: z.enum(OUTPUT_FORMATS),
  /** Most items per output file; a shard's output is split into `<shard>-<part>` files past it. */
  shardSize: z.int().min(1).optional(),
});
export type PipelineOutput = z.infer<typeof PipelineOutput>;

/** The file's shape; `input` and each stage's options are parsed separately (they depend on `format` / `use`). */
const PipelineFile = z.strictObject({
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  output: PipelineOutput,
  /** A per-item time limit: past it the item is dropped as `timeout` and its worker replaced if it hangs on. */
  itemTimeoutMs: z.int().min(1).default(30_000),
  /** Worker threads running items; default the CPU count. */
  workers: z.int().min(1).optional(),
  /** Extra modules exporting `stages` and/or `sources` arrays (your own stages), relative to the file's folder. */
  modules: z.array(z.string().min(1)).default([]),
  stages: z.array(z.looseObject({ use: z.string().min(1) })).default([]),
});

export type PipelineStage = {
  use: string;
  /** The options as written (what a worker re-parses with the stage's schema). */
  raw: Record<string, unknown>;
  /** The options parsed by the stage's schema, defaults filled in. */
  options: unknown;
  def: AnyStageDef;
  /** Hash of this stage's parsed options and of everything before it: a change reruns it and what follows. */
  chainHash: string;
};

export type Pipeline = {
  name: string;
  /** The pipeline file (absent for a pipeline built in code). */
  file: string | undefined;
  /** Relative paths in the file resolve against this folder. */
  baseDir: string;
  input: ({ kind: "file" } & FileInput) | ({ kind: "generate"; def: AnySourceDef } & GenerateInput);
  /** Hash of the input's config: the first link of every stage's `chainHash`. */
  inputHash: string;
  output: PipelineOutput;
  itemTimeoutMs: number;
  workers: number;
  /** Absolute file URLs of the extra modules. */
  modules: string[];
  stages: PipelineStage[];
};

/** JSON with sorted keys, so a hash does not depend on the order keys were written in. */
export function stableJson(value: unknown): string {
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export const sha256 = (text: string | Uint8Array): string => createHash("sha256").update(text).digest("hex");

/** The stages and sources a pipeline can name: the built-in registries plus its extra modules'. */
export type Registry = { stages: AnyStageDef[]; sources: AnySourceDef[] };

/** What a caller needs from the registry: only these names (the built-in lists load only when one is missing). */
export type RegistryNeed = { stages?: readonly string[]; sources?: readonly string[] };

/**
 * Import the extra modules (absolute file URLs) and join their stages and sources to the built-in ones (theirs
 * first, so a module can replace a built-in). With `need`, a built-in list is imported only when a needed name is
 * not in the modules: the source list loads MathJax and the stage list sharp, which a worker should not pay for.
 */
export async function loadRegistry(modules: readonly string[], need?: RegistryNeed): Promise<Registry> {
  const stages: AnyStageDef[] = [];
  const sources: AnySourceDef[] = [];
  for (const url of modules) {
    let mod: { stages?: AnyStageDef[]; sources?: AnySourceDef[] };
    try {
      mod = await import(url);
    } catch (cause) {
      throw new GlmvError("bad_config", `cannot load module ${url}: ${(cause as Error).message}`, { cause });
    }
    stages.push(...(mod.stages ?? []));
    sources.push(...(mod.sources ?? []));
  }
  const missing = (list: { name: string }[], names: readonly string[] | undefined) =>
    names === undefined || names.some((n) => !list.some((d) => d.name === n));
  if (missing(stages, need ? (need.stages ?? []) : undefined))
    stages.push(...(await import("./stages/index.ts")).allStages);
  if (missing(sources, need ? (need.sources ?? []) : undefined))
    sources.push(...(await import("./sources/index.ts")).allSources);
  return { stages, sources };
}

function lookup<T extends { name: string }>(kind: string, list: T[], name: string, where: string): T {
  const found = list.find((d) => d.name === name);
  if (found) return found;
  const known = list.map((d) => d.name).join(", ") || "(none)";
  throw new GlmvError("bad_config", `unknown ${kind} "${name}"; known: ${known}`, { where });
}

type Located = { source: string | undefined; lineOf: ((p: ConfigPath) => number | undefined) | undefined };

const whereOf = (loc: Located, path: ConfigPath): string => {
  const line = loc.lineOf?.(path);
  return loc.source ? `${loc.source}${line ? `:${line}` : ""}` : path.map(String).join(".");
};

/** Parse part of the file at `at` with `schema`; errors name the full dotted path and the file's line. */
function parseAt<S extends z.ZodType>(schema: S, input: unknown, at: ConfigPath, loc: Located): z.output<S> {
  const ctx: ZodLineContext = {
    source: loc.source,
    prefix: at.length ? at.map(String).join(".") : undefined,
    lineOf: loc.lineOf && ((p) => loc.lineOf!([...at, ...p])),
  };
  return parseOrThrow(schema, input, "bad_config", ctx);
}

function parseInput(raw: Record<string, unknown>, registry: Registry, loc: Located): Pipeline["input"] {
  if ("generate" in raw) {
    const { generate, ...options } = raw;
    if (typeof generate !== "string")
      throw new GlmvError("bad_config", "input.generate must be a source name", {
        where: whereOf(loc, ["input", "generate"]),
      });
    const def = lookup("source", registry.sources, generate, whereOf(loc, ["input", "generate"]));
    return { kind: "generate", def, generate, options: parseAt(def.options, options, ["input"], loc) };
  }
  if (!("format" in raw))
    throw new GlmvError(
      "bad_config",
      "input needs `format: jsonl | parquet | webdataset` (with `path`) or `generate: <source>`",
      { where: whereOf(loc, ["input"]) },
    );
  return { kind: "file", ...parseAt(FileInput, raw, ["input"], loc) };
}

/**
 * Validate a pipeline (the parsed YAML `value`); `file` names it in errors and is where relative paths resolve.
 * @example const pipeline = await parsePipeline({ name: "p", input: {...}, output: { format: "jsonl" } }, { baseDir: "." })
 */
export async function parsePipeline(
  value: unknown,
  opts: { file?: string; baseDir?: string; lineOf?: Located["lineOf"] } = {},
): Promise<Pipeline> {
  const loc: Located = { source: opts.file, lineOf: opts.lineOf };
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new GlmvError("bad_config", "a pipeline file must be a mapping (name, input, output, stages)", {
      where: opts.file,
    });
  const file = parseAt(PipelineFile, value, [], loc);
  const baseDir = resolve(opts.baseDir ?? (opts.file ? dirname(opts.file) : "."));
  const modules = file.modules.map((m) => pathToFileURL(resolve(baseDir, m)).href);
  const generate = typeof file.input.generate === "string" ? [file.input.generate] : [];
  const registry = await loadRegistry(modules, { stages: file.stages.map((s) => s.use), sources: generate });
  const input = parseInput(file.input, registry, loc);
  const inputHash = sha256(stableJson(input.kind === "generate" ? { ...input, def: input.def.name } : input));
  let chain = inputHash;
  const stages = file.stages.map((entry, i): PipelineStage => {
    const { use, ...raw } = entry;
    const def = lookup("stage", registry.stages, use, whereOf(loc, ["stages", i, "use"]));
    const options = parseAt(def.options, raw, ["stages", i], loc);
    chain = sha256(`${chain}\n${use}\n${stableJson(options)}`);
    return { use, raw, options, def, chainHash: chain };
  });
  return {
    name: file.name,
    file: opts.file,
    baseDir,
    input,
    inputHash,
    output: file.output,
    itemTimeoutMs: file.itemTimeoutMs,
    workers: file.workers ?? availableParallelism(),
    modules,
    stages,
  };
}

/**
 * Read and validate a pipeline file: bad YAML, an unknown key or stage, or a bad stage option is a `bad_config`
 * error naming the field path and the file's line.
 * @example const pipeline = await loadPipeline("pairs.yaml"); pipeline.stages.map((s) => s.use)
 */
export async function loadPipeline(path: string): Promise<Pipeline> {
  const { value, lineOf } = readYamlFile(path);
  return parsePipeline(value, { file: path, lineOf });
}
