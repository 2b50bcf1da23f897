/**
 * safetensors read/write. Layout: u64 little-endian header length N, N bytes of JSON header
 * `{key: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then the data; offsets are
 * relative to the data start. Offsets need not be aligned (tensor-engine.md), so every tensor is copied out.
 *
 * Decoded values: float dtypes (F64, F32, F16, BF16) become `Float32Array`; integer and bool dtypes become
 * `Int32Array` (I64/U32/U64 values outside the int32 range are rejected as `unsupported_dtype`: token ids and
 * position ids always fit). F8 types are `unsupported_dtype`. Assumes a little-endian host (x86, ARM).
 */
import { open } from "node:fs/promises";
import { GlmvError } from "../util/errors.ts";

export const FLOAT_DTYPES = ["F64", "F32", "F16", "BF16"] as const;
export const INT_DTYPES = ["I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];
export type IntDtype = (typeof INT_DTYPES)[number];
export type SafeDtype = FloatDtype | IntDtype;

/** Bytes per element of every dtype glmv can decode. */
export const DTYPE_BYTES: Record<SafeDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** A decoded tensor: floats as f32, integers as i32. `dtype` is the dtype stored in the file. */
export type SafeTensor =
  | { dtype: FloatDtype; shape: number[]; data: Float32Array }
  | { dtype: IntDtype; shape: number[]; data: Int32Array };

/** One header entry (offsets relative to the data section). */
export type SafeHeaderEntry = { key: string; dtype: SafeDtype; shape: number[]; begin: number; end: number };

/** A parsed, validated header. `dataStart` = 8 + header length. */
export type SafeHeader = { entries: SafeHeaderEntry[]; metadata: Record<string, string>; dataStart: number };

const corrupt = (message: string, where: string) => new GlmvError("checkpoint_corrupt", message, { where });

const isKnownDtype = (d: string): d is SafeDtype => Object.hasOwn(DTYPE_BYTES, d);

/**
 * Parse and validate a header: JSON object, known dtypes, integer shapes, offsets in range, sizes matching
 * dtype × shape, and tensors tiling the data section exactly (sorted, contiguous, no overlap, no gap).
 * Errors name the tensor: `where` is `<file>:<key>`.
 * @example
 * const h = parseSafetensorsHeader(headerBytes, fileSize - 8 - headerBytes.length, "model.safetensors");
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength: number,
  where = "safetensors",
): SafeHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new GlmvError("checkpoint_corrupt", "header is not valid UTF-8 JSON", { where, cause: e });
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw corrupt("header is not a JSON object", where);
  const entries: SafeHeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
    const at = `${where}:${key}`;
    if (key === "__metadata__") {
      metadata = parseMetadata(raw, at);
      continue;
    }
    entries.push(parseEntry(key, raw, dataLength, at));
  }
  // Tensors must tile the data section: sorted by offset, each starting where the previous one ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor)
      throw corrupt(
        `tensor overlaps the previous one (begins at ${e.begin} < ${cursor})`,
        `${where}:${e.key}`,
      );
    if (e.begin > cursor)
      throw corrupt(
        `gap in the data section before this tensor (${cursor}..${e.begin})`,
        `${where}:${e.key}`,
      );
    cursor = e.end;
  }
  if (cursor !== dataLength)
    throw corrupt(`data section has ${dataLength} bytes but tensors cover ${cursor}`, where);
  return { entries, metadata, dataStart: 8 + headerBytes.length };
}

function parseMetadata(raw: unknown, at: string): Record<string, string> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw corrupt("__metadata__ is not an object", at);
  for (const v of Object.values(raw))
    if (typeof v !== "string") throw corrupt("__metadata__ values must be strings", at);
  return raw as Record<string, string>;
}

function parseEntry(key: string, raw: unknown, dataLength: number, at: string): SafeHeaderEntry {
  if (raw === null || typeof raw !== "object") throw corrupt("header entry is not an object", at);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string") throw corrupt("dtype missing", at);
  if (!isKnownDtype(dtype))
    throw new GlmvError("unsupported_dtype", `unsupported dtype ${dtype}`, { where: at });
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw corrupt("shape must be a list of non-negative integers", at);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw corrupt("data_offsets must be two non-negative integers", at);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin || end > dataLength) {
    throw corrupt(`data_offsets [${begin}, ${end}] out of range (data section is ${dataLength} bytes)`, at);
  }
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (numel * DTYPE_BYTES[dtype] !== end - begin) {
    throw corrupt(
      `${end - begin} bytes but ${dtype}[${shape.join(",")}] needs ${numel * DTYPE_BYTES[dtype]}`,
      at,
    );
  }
  return { key, dtype, shape: shape as number[], begin, end };
}

/** Read the u64 header length and check it fits in a file of `fileSize` bytes. */
function headerLength(prefix: Uint8Array, fileSize: number, where: string): number {
  if (fileSize < 8 || prefix.length < 8)
    throw corrupt(`file too short for a header (${fileSize} bytes)`, where);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n || n > BigInt(fileSize - 8))
    throw corrupt(`bad header length ${n} for a ${fileSize}-byte file`, where);
  return Number(n);
}

/**
 * Decode every tensor of an in-memory safetensors file.
 * @example
 * const tensors = readSafetensors(await readFile("model.safetensors"), { where: "model.safetensors" });
 * tensors.get("lm_head.weight")?.shape; // [300, 96]
 */
export function readSafetensors(bytes: Uint8Array, opts: { where?: string } = {}): Map<string, SafeTensor> {
  const where = opts.where ?? "safetensors";
  const n = headerLength(bytes, bytes.length, where);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, where);
  const out = new Map<string, SafeTensor>();
  for (const e of header.entries) {
    out.set(
      e.key,
      decodeTensor(
        e,
        bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end),
        `${where}:${e.key}`,
      ),
    );
  }
  return out;
}

/**
 * Read only the header of a file on disk (8 + N bytes), for checkpoints too large to load.
 * @example
 * const { entries } = await readSafetensorsHeader("model-00001-of-00004.safetensors");
 */
export async function readSafetensorsHeader(path: string): Promise<SafeHeader> {
  const fh = await open(path, "r").catch((e: unknown) => {
    throw new GlmvError("not_found", "cannot open safetensors file", { where: path, cause: e });
  });
  try {
    const size = (await fh.stat()).size;
    const prefix = new Uint8Array(8);
    await fh.read(prefix, 0, 8, 0);
    const n = headerLength(prefix, size, path);
    const headerBytes = new Uint8Array(n);
    await fh.read(headerBytes, 0, n, 8);
    return parseSafetensorsHeader(headerBytes, size - 8 - n, path);
  } finally {
    await fh.close();
  }
}

/** Decode one tensor's bytes (copied first: offsets may be unaligned). */
export function decodeTensor(
  e: Pick<SafeHeaderEntry, "dtype" | "shape">,
  raw: Uint8Array,
  where: string,
): SafeTensor {
  // An aligned private copy. (Not `raw.slice()`: on a Node Buffer that is a view of the whole file.)
  const bytes = new Uint8Array(raw.length);
  bytes.set(raw);
  const buf = bytes.buffer;
  const shape = [...e.shape];
  switch (e.dtype) {
    case "F32":
      return { dtype: "F32", shape, data: new Float32Array(buf) };
    case "F64":
      return { dtype: "F64", shape, data: Float32Array.from(new Float64Array(buf)) };
    case "F16":
      return { dtype: "F16", shape, data: f16ToF32(new Uint16Array(buf)) };
    case "BF16": {
      const src = new Uint16Array(buf);
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return { dtype: "BF16", shape, data: new Float32Array(bits.buffer) };
    }
    case "I32":
      return { dtype: "I32", shape, data: new Int32Array(buf) };
    case "I16":
      return { dtype: "I16", shape, data: Int32Array.from(new Int16Array(buf)) };
    case "I8":
      return { dtype: "I8", shape, data: Int32Array.from(new Int8Array(buf)) };
    case "U16":
      return { dtype: "U16", shape, data: Int32Array.from(new Uint16Array(buf)) };
    case "U8":
    case "BOOL":
      return { dtype: e.dtype, shape, data: Int32Array.from(bytes) };
    case "I64":
    case "U64":
    case "U32": {
      const src =
        e.dtype === "I64"
          ? new BigInt64Array(buf)
          : e.dtype === "U64"
            ? new BigUint64Array(buf)
            : new Uint32Array(buf);
      const data = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = Number(src[i]!);
        if (v < -0x80000000 || v > 0x7fffffff) {
          throw new GlmvError("unsupported_dtype", `${e.dtype} value ${v} does not fit int32`, { where });
        }
        data[i] = v;
      }
      return { dtype: e.dtype, shape, data };
    }
  }
}

/** IEEE half → f32. */
function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** A tensor to write: f32 data is stored in the chosen float dtype, i32 data as I64 (or I32 if `dtype` says so). */
export type WritableTensor = { shape: readonly number[]; data: Float32Array | Int32Array; dtype?: SafeDtype };

/**
 * Serialise tensors (keys sorted) with an 8-byte aligned header padded with spaces.
 * Floats are rounded to nearest-even when narrowed to F16/BF16.
 * @example
 * const bytes = writeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } }, { dtype: "BF16" });
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, WritableTensor> | Record<string, WritableTensor>,
  opts: { dtype?: "F32" | "F16" | "BF16"; metadata?: Record<string, string> } = {},
): Uint8Array {
  const floatDtype = opts.dtype ?? "F32";
  const items: [string, WritableTensor][] = (
    tensors instanceof Map ? [...tensors] : Object.entries(tensors)
  ).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of items) {
    if (key === "__metadata__")
      throw new GlmvError("bad_argument", "tensor key __metadata__ is reserved", { where: key });
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new GlmvError(
        "bad_argument",
        `shape [${t.shape.join(",")}] needs ${numel} values, data has ${t.data.length}`,
        { where: key },
      );
    }
    const [dtype, bytes] = encodeTensor(t, floatDtype);
    header[key] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function encodeTensor(t: WritableTensor, floatDtype: "F32" | "F16" | "BF16"): [SafeDtype, Uint8Array] {
  if (t.data instanceof Int32Array) {
    if (t.dtype === "I32") return ["I32", new Uint8Array(t.data.slice().buffer)];
    return ["I64", new Uint8Array(BigInt64Array.from(t.data, (v) => BigInt(v)).buffer)];
  }
  if (floatDtype === "F32") return ["F32", new Uint8Array(t.data.slice().buffer)];
  const bits = new Uint32Array(t.data.slice().buffer);
  const out = new Uint16Array(bits.length);
  for (let i = 0; i < bits.length; i++)
    out[i] = floatDtype === "F16" ? f32BitsToF16(bits[i]!) : f32BitsToBf16(bits[i]!);
  return [floatDtype, new Uint8Array(out.buffer)];
}

/** f32 bits → bf16 bits, round to nearest even; NaN stays a quiet NaN. */
function f32BitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 bits → IEEE half bits, round to nearest even, with subnormals, overflow to ±inf. */
function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const half = 2 ** (shift - 1);
    let m = Math.floor(full / 2 ** shift);
    const rem = full - m * 2 ** shift;
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m; // a carry into bit 10 is the correct smallest normal
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may reach the exponent (→ inf): correct
  return h;
}
