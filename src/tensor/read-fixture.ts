/**
 * A minimal safetensors reader for the test fixtures (F32 and I64 only). The project's full reader is
 * src/model/safetensors.ts; this one exists so the tensor/model tests do not depend on it.
 */
import { GlmvError } from "../util/errors.ts";

/** A fixture tensor: floats as Float32Array, integers as Int32Array-compatible numbers in a Float64Array. */
export type FixtureTensor = { dtype: "F32" | "I64"; shape: number[]; data: Float32Array | Float64Array };

/**
 * Decode a safetensors file held in memory. Offsets need not be 4-byte aligned, so each tensor is copied.
 * @example const t = readFixtureSafetensors(bytes).get("image_8x12.logits");
 */
export function readFixtureSafetensors(bytes: Uint8Array): Map<string, FixtureTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, FixtureTensor>();
  for (const [key, e] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const raw = bytes.slice(base + e.data_offsets[0], base + e.data_offsets[1]);
    if (e.dtype === "F32") {
      out.set(key, { dtype: "F32", shape: e.shape, data: new Float32Array(raw.buffer) });
    } else if (e.dtype === "I64") {
      const ints = new BigInt64Array(raw.buffer);
      out.set(key, { dtype: "I64", shape: e.shape, data: Float64Array.from(ints, (x) => Number(x)) });
    } else {
      throw new GlmvError("unsupported_dtype", `fixture dtype ${e.dtype}`, { where: key });
    }
  }
  return out;
}
