/**
 * Reads a benchmark's release file as plain records: JSON (an array, or an object keyed by id as MathVista ships),
 * JSONL, or Parquet as on the Hugging Face hub (image columns are `{ bytes, path }` structs). Nothing is downloaded.
 */
import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { GlmvError } from "../util/errors.ts";
import type { EvalImage } from "./types.ts";

export type BenchRecord = Record<string, unknown>;

/** The key an object-shaped JSON file's entries get their key under (MathVista's `pid` is already inside). */
export const RECORD_KEY = "__key";

/**
 * All records of a JSON, JSONL or Parquet file, in file order.
 * @example const rows = await readRecords("testmini.json"); // MathVista: one record per pid, `__key` = pid
 */
export async function readRecords(path: string): Promise<BenchRecord[]> {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet") {
    const file = await asyncBufferFromFile(path).catch((cause: unknown) => {
      throw new GlmvError("io_error", `cannot read ${path}`, { where: path, cause });
    });
    try {
      // utf8: false keeps binary columns (image bytes) as bytes; columns marked as text still decode to strings
      return (await parquetReadObjects({ file, compressors, utf8: false })) as BenchRecord[];
    } catch (cause) {
      throw new GlmvError("bad_input", `not a readable Parquet file: ${(cause as Error).message}`, {
        where: path,
      });
    }
  }
  const text = await readFile(path, "utf8").catch((cause: unknown) => {
    throw new GlmvError("io_error", `cannot read ${path}`, { where: path, cause });
  });
  if (ext === ".jsonl") return parseJsonl(text, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (cause) {
    throw new GlmvError("bad_input", `not valid JSON: ${(cause as Error).message}`, { where: path });
  }
  if (Array.isArray(parsed)) return parsed.map((row, i) => asRecord(row, `${path}:[${i}]`));
  if (parsed && typeof parsed === "object") {
    return Object.entries(parsed).map(([key, row]) => ({
      ...asRecord(row, `${path}:${key}`),
      [RECORD_KEY]: key,
    }));
  }
  throw new GlmvError("bad_input", "expected a JSON array or an object of records", { where: path });
}

/** Records of a JSONL text; a bad line is an error naming file:line (blank lines are skipped). */
export function parseJsonl(text: string, path: string): BenchRecord[] {
  const rows: BenchRecord[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (cause) {
      throw new GlmvError("bad_input", `not valid JSON: ${(cause as Error).message}`, {
        where: `${path}:${i + 1}`,
      });
    }
    rows.push(asRecord(row, `${path}:${i + 1}`));
  }
  return rows;
}

function asRecord(row: unknown, where: string): BenchRecord {
  if (row && typeof row === "object" && !Array.isArray(row)) return row as BenchRecord;
  throw new GlmvError("bad_input", "expected an object", { where });
}

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
};

/** The MIME type of image bytes from their magic number (PNG, JPEG, GIF, WebP), or null. */
export function sniffImageMime(bytes: Uint8Array): string | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes[0] === 0x47 && bytes[1] === 0x49) return "image/gif";
  if (bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return "image/webp";
  return null;
}

/**
 * An image cell as a benchmark release stores it: a path string (relative to the release file's folder), or a
 * hub struct `{ bytes, path }` (bytes win). Anything else is an error naming the field.
 */
export function imageFromCell(cell: unknown, releaseFile: string, where: string): EvalImage {
  if (typeof cell === "string") return { path: isAbsolute(cell) ? cell : join(dirname(releaseFile), cell) };
  if (cell && typeof cell === "object") {
    const { bytes, path } = cell as { bytes?: unknown; path?: unknown };
    if (bytes instanceof Uint8Array && bytes.length > 0) {
      const mime = sniffImageMime(bytes) ?? MIME[extname(String(path ?? "")).toLowerCase()];
      if (!mime) throw new GlmvError("image_invalid", "image bytes of an unknown format", { where });
      return { bytes, mime };
    }
    if (typeof path === "string" && path !== "") return imageFromCell(path, releaseFile, where);
  }
  throw new GlmvError("bad_input", "expected an image path or a { bytes, path } struct", { where });
}
