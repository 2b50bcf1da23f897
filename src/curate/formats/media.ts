/** What a media file is, by its magic bytes or its name: the report thumbnails images and names the rest. */
import { extname } from "node:path";

const MAGIC: [string, (b: Uint8Array) => boolean][] = [
  ["png", (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ["jpg", (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["gif", (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46],
  ["webp", (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP"],
  ["pdf", (b) => ascii(b, 0, 5) === "%PDF-"],
  ["mp4", (b) => ascii(b, 4, 8) === "ftyp"],
  ["webm", (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3],
];

const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** File extensions a WebDataset member or a Parquet image may carry as media. */
export const MEDIA_EXTENSIONS = new Set([
  "jpg",
  "jpeg",
  "png",
  "webp",
  "gif",
  "bmp",
  "tif",
  "tiff",
  "pdf",
  "mp4",
  "webm",
]);
const IMAGE_EXTENSIONS = new Set(["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"]);

/**
 * The extension `bytes` should carry, from their magic bytes, else from `name`, else "bin".
 * @example mediaExtension(pngBytes) // "png"
 */
export function mediaExtension(bytes: Uint8Array, name = ""): string {
  const found = MAGIC.find(([, test]) => bytes.length >= 12 && test(bytes));
  if (found) return found[0];
  return extname(name).slice(1).toLowerCase() || "bin";
}

/** Whether a media file is an image sharp can thumbnail. */
export const isImageMedia = (bytes: Uint8Array, name = ""): boolean =>
  IMAGE_EXTENSIONS.has(mediaExtension(bytes, name));

/** A value made JSON-safe for `fields`: bigints become numbers (or strings past 2^53), bytes and functions go. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint")
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array || typeof value === "function") return undefined;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).flatMap(([k, v]) => {
        const safe = jsonSafe(v);
        return safe === undefined ? [] : [[k, safe]];
      }),
    );
  return value;
}
