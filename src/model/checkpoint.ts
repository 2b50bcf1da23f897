/**
 * Checkpoint folders in the Hugging Face layout: `config.json`, weights in `model.safetensors` or shards listed by
 * `model.safetensors.index.json`, and optionally `tokenizer.json`.
 *
 * Which weight files are read: the index's shards if an index exists; else `model.safetensors` if present (so a
 * folder that also holds other safetensors, like the parity fixtures, still loads); else every `*.safetensors`.
 *
 * Key mapping: the caller passes the expected `{key, shape}` list (from the model config). A file key matches an
 * expected key exactly, or else by its canonical suffix: leading `model.` / `language_model.` segments are stripped
 * from both, so hub layouts `model.visual.*` / `visual.*` and `model.language_model.layers.*` / `model.layers.*` all
 * map onto the same expected keys (model-spec.md §1.3).
 */
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { GlmvError } from "../util/errors.ts";
import { tempSibling } from "../util/fs.ts";
import {
  decodeTensor,
  readSafetensorsHeader,
  type SafeDtype,
  type SafeTensor,
  type WritableTensor,
  writeSafetensors,
} from "./safetensors.ts";

export type ExpectedTensor = { key: string; shape: readonly number[] };

/** Everything wrong between a checkpoint and the expected tensor list, all at once. */
export type CheckpointMismatch = {
  missing: string[];
  unexpected: string[];
  misshaped: { key: string; expected: number[]; actual: number[] }[];
  /** Expected keys that two file keys both map to. */
  duplicated: string[];
};

const INDEX_FILE = "model.safetensors.index.json";

/** Strip leading `model.` / `language_model.` segments: the part of a key every hub layout agrees on. */
export function canonicalKey(key: string): string {
  let k = key;
  for (;;) {
    if (k.startsWith("model.")) k = k.slice(6);
    else if (k.startsWith("language_model.")) k = k.slice(15);
    else return k;
  }
}

/**
 * Map file keys onto expected keys and collect every mismatch.
 * @example
 * const { mapping, mismatch } = matchCheckpointKeys([{ key: "visual.x", shape: [2] }], [{ key: "model.visual.x", shape: [2] }]);
 * mapping.get("visual.x"); // "model.visual.x"
 */
export function matchCheckpointKeys(
  found: readonly ExpectedTensor[],
  expected: readonly ExpectedTensor[],
): { mapping: Map<string, string>; mismatch: CheckpointMismatch } {
  const byKey = new Map(expected.map((e) => [e.key, e]));
  const byCanon = new Map<string, ExpectedTensor | null>();
  for (const e of expected) byCanon.set(canonicalKey(e.key), byCanon.has(canonicalKey(e.key)) ? null : e);
  const mapping = new Map<string, string>();
  const taken = new Set<string>();
  const mismatch: CheckpointMismatch = { missing: [], unexpected: [], misshaped: [], duplicated: [] };
  for (const f of found) {
    const target = byKey.get(f.key) ?? byCanon.get(canonicalKey(f.key)) ?? undefined;
    if (!target) {
      mismatch.unexpected.push(f.key);
      continue;
    }
    if (taken.has(target.key)) mismatch.duplicated.push(target.key);
    taken.add(target.key);
    mapping.set(f.key, target.key);
    if (f.shape.length !== target.shape.length || f.shape.some((d, i) => d !== target.shape[i])) {
      mismatch.misshaped.push({ key: target.key, expected: [...target.shape], actual: [...f.shape] });
    }
  }
  for (const e of expected) if (!taken.has(e.key)) mismatch.missing.push(e.key);
  return { mapping, mismatch };
}

/** True when nothing is wrong. */
export const isCleanMatch = (m: CheckpointMismatch): boolean =>
  m.missing.length + m.unexpected.length + m.misshaped.length + m.duplicated.length === 0;

/** How many keys of each kind a summary names; the full lists stay on the error's `cause`. */
const EXAMPLES = 3;

/** "N tensors missing, e.g. a, b, c": a count and the first few, so a wrong config is one readable line. */
function summarizeKeys(keys: readonly string[], what: string): string {
  const more = keys.length > EXAMPLES ? ", …" : "";
  const noun = keys.length === 1 ? "tensor" : "tensors";
  return `${keys.length} ${noun} ${what}, e.g. ${keys.slice(0, EXAMPLES).join(", ")}${more}`;
}

/**
 * One line summing up every problem: counts with a few example keys per kind.
 * @example formatMismatch(m) // "2 tensors missing, e.g. lm_head.weight, …; 1 tensor mis-shaped, e.g. …"
 */
export function formatMismatch(m: CheckpointMismatch): string {
  const parts: string[] = [];
  if (m.missing.length) parts.push(summarizeKeys(m.missing, "missing"));
  if (m.unexpected.length) parts.push(summarizeKeys(m.unexpected, "unexpected"));
  if (m.misshaped.length) {
    const shapes = m.misshaped.map(
      (x) => `${x.key} [${x.actual.join(",")}] != expected [${x.expected.join(",")}]`,
    );
    parts.push(summarizeKeys(shapes, "mis-shaped"));
  }
  if (m.duplicated.length) parts.push(summarizeKeys(m.duplicated, "duplicated"));
  return parts.join("; ");
}

/** The weight files a checkpoint folder uses, with the keys each should hold when an index lists them. */
export async function listWeightFiles(dir: string): Promise<{ file: string; keys?: Set<string> }[]> {
  const names = await fsp.readdir(dir).catch((e: unknown) => {
    throw new GlmvError("not_found", "cannot read checkpoint folder", { where: dir, cause: e });
  });
  if (names.includes(INDEX_FILE)) {
    const index = (await readJsonFile(join(dir, INDEX_FILE))) as { weight_map?: Record<string, string> };
    if (!index.weight_map || typeof index.weight_map !== "object") {
      throw new GlmvError("checkpoint_corrupt", "index has no weight_map", { where: join(dir, INDEX_FILE) });
    }
    const byFile = new Map<string, Set<string>>();
    for (const [key, file] of Object.entries(index.weight_map)) {
      if (!byFile.has(file)) byFile.set(file, new Set());
      byFile.get(file)!.add(key);
    }
    return [...byFile].sort(([a], [b]) => a.localeCompare(b)).map(([file, keys]) => ({ file, keys }));
  }
  if (names.includes("model.safetensors")) return [{ file: "model.safetensors" }];
  const all = names.filter((n) => n.endsWith(".safetensors")).sort();
  if (all.length === 0)
    throw new GlmvError("not_found", "no .safetensors files in checkpoint folder", { where: dir });
  return all.map((file) => ({ file }));
}

type HeaderRow = { key: string; dtype: SafeDtype; shape: number[]; file: string; begin: number; end: number };

/** Read every weight file's header (no tensor data) and check it against the index. */
async function readAllHeaders(dir: string): Promise<{ rows: HeaderRow[]; dataStart: Map<string, number> }> {
  const rows: HeaderRow[] = [];
  const dataStart = new Map<string, number>();
  for (const { file, keys } of await listWeightFiles(dir)) {
    const path = join(dir, file);
    const header = await readSafetensorsHeader(path);
    dataStart.set(file, header.dataStart);
    const inFile = new Set(header.entries.map((e) => e.key));
    for (const k of keys ?? []) {
      if (!inFile.has(k))
        throw new GlmvError("checkpoint_corrupt", "index lists a tensor its shard lacks", {
          where: `${file}:${k}`,
        });
    }
    for (const e of header.entries) if (!keys || keys.has(e.key)) rows.push({ ...e, file });
  }
  return { rows, dataStart };
}

/**
 * Load a checkpoint folder and validate it against `expected`. Tensors come back keyed by the expected keys.
 * Throws one `checkpoint_mismatch` listing every missing, unexpected and mis-shaped key (before reading any data).
 * @example
 * const { config, tensors } = await loadCheckpointDir("ckpt/step-100", expectedTensors(cfg));
 */
export async function loadCheckpointDir(
  dir: string,
  expected: readonly ExpectedTensor[],
): Promise<{ config: unknown; tensors: Map<string, SafeTensor> }> {
  const config = await readJsonFile(join(dir, "config.json"));
  const { rows, dataStart } = await readAllHeaders(dir);
  const { mapping, mismatch } = matchCheckpointKeys(rows, expected);
  if (!isCleanMatch(mismatch)) {
    throw new GlmvError(
      "checkpoint_mismatch",
      `checkpoint does not match the model config: ${formatMismatch(mismatch)}`,
      {
        where: dir,
        cause: mismatch,
      },
    );
  }
  const tensors = new Map<string, SafeTensor>();
  const byFile = new Map<string, HeaderRow[]>();
  for (const r of rows) {
    const list = byFile.get(r.file);
    if (list) list.push(r);
    else byFile.set(r.file, [r]);
  }
  for (const [file, fileRows] of byFile) {
    // Read tensor by tensor at its offset: shards can exceed Node's single-buffer limit.
    const fh = await fsp.open(join(dir, file), "r");
    try {
      const start = dataStart.get(file) ?? 0;
      for (const r of fileRows) {
        const raw = new Uint8Array(r.end - r.begin);
        const { bytesRead } = await fh.read(raw, 0, raw.length, start + r.begin);
        if (bytesRead !== raw.length)
          throw new GlmvError("checkpoint_corrupt", "file ends inside this tensor", {
            where: `${file}:${r.key}`,
          });
        tensors.set(mapping.get(r.key)!, decodeTensor(r, raw, `${file}:${r.key}`));
      }
    } finally {
      await fh.close();
    }
  }
  return { config, tensors };
}

/** What `inspectCheckpointDir` reports. */
export type CheckpointSummary = {
  files: string[];
  tensors: { key: string; dtype: SafeDtype; shape: number[]; file: string }[];
  totalParameters: number;
  parametersByDtype: Partial<Record<SafeDtype, number>>;
  config: unknown;
};

/**
 * List tensors, dtypes and the parameter count from headers only (works for a 9B or 108B checkpoint).
 * @example
 * const s = await inspectCheckpointDir("/models/GLM-4.1V-9B-Thinking"); s.totalParameters;
 */
export async function inspectCheckpointDir(dir: string): Promise<CheckpointSummary> {
  const config = await readJsonFile(join(dir, "config.json")).catch(() => undefined);
  const { rows } = await readAllHeaders(dir);
  const parametersByDtype: Partial<Record<SafeDtype, number>> = {};
  let totalParameters = 0;
  for (const r of rows) {
    const n = r.shape.reduce((a, b) => a * b, 1);
    totalParameters += n;
    parametersByDtype[r.dtype] = (parametersByDtype[r.dtype] ?? 0) + n;
  }
  return {
    files: [...new Set(rows.map((r) => r.file))],
    tensors: rows.map(({ key, dtype, shape, file }) => ({ key, dtype, shape, file })),
    totalParameters,
    parametersByDtype,
    config,
  };
}

/** Injection points for tests (simulate a crash mid-write). */
export type SaveIo = { writeFile: (path: string, data: Uint8Array | string) => Promise<void> };

const defaultIo: SaveIo = {
  async writeFile(path, data) {
    const fh = await fsp.open(path, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/**
 * Save a checkpoint folder atomically: everything is written into a temp sibling folder, which is then renamed
 * into place (an existing folder is moved aside first and removed after). A failure at any point before the final
 * rename leaves the old checkpoint untouched and removes the temp folder.
 * @example
 * await saveCheckpointDir("runs/x/ckpt-100", { config, tensors, tokenizerJson });
 */
export async function saveCheckpointDir(
  dir: string,
  ckpt: {
    config: unknown;
    tensors: ReadonlyMap<string, WritableTensor> | Record<string, WritableTensor>;
    tokenizerJson?: unknown;
    dtype?: "F32" | "F16" | "BF16";
  },
  io: SaveIo = defaultIo,
): Promise<void> {
  const tmp = tempSibling(dir);
  try {
    await fsp.mkdir(tmp);
    await io.writeFile(join(tmp, "config.json"), `${JSON.stringify(ckpt.config, null, 2)}\n`);
    const weights = writeSafetensors(ckpt.tensors, {
      dtype: ckpt.dtype ?? "F32",
      metadata: { format: "pt" },
    });
    await io.writeFile(join(tmp, "model.safetensors"), weights);
    if (ckpt.tokenizerJson !== undefined) {
      const text =
        typeof ckpt.tokenizerJson === "string" ? ckpt.tokenizerJson : JSON.stringify(ckpt.tokenizerJson);
      await io.writeFile(join(tmp, "tokenizer.json"), text);
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new GlmvError("io_error", `saving checkpoint failed: ${(e as Error).message}`, {
      where: dir,
      cause: e,
    });
  }
  await swapIntoPlace(tmp, dir);
}

/** Rename `tmp` to `dir`; a directory cannot be renamed over a non-empty one, so move the old one aside first. */
async function swapIntoPlace(tmp: string, dir: string): Promise<void> {
  const exists = await fsp.stat(dir).then(
    () => true,
    () => false,
  );
  const old = exists ? tempSibling(dir) : undefined;
  if (old) await fsp.rename(dir, old);
  try {
    await fsp.rename(tmp, dir);
  } catch (e) {
    if (old) await fsp.rename(old, dir); // put the previous checkpoint back
    await fsp.rm(tmp, { recursive: true, force: true });
    throw new GlmvError("io_error", "could not move checkpoint into place", { where: dir, cause: e });
  }
  if (old) await fsp.rm(old, { recursive: true, force: true });
}

async function readJsonFile(path: string): Promise<unknown> {
  const text = await fsp.readFile(path, "utf8").catch((e: unknown) => {
    throw new GlmvError("not_found", "cannot read file", { where: path, cause: e });
  });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new GlmvError("checkpoint_corrupt", "not valid JSON", { where: path, cause: e });
  }
}
