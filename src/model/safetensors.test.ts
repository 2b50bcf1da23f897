import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type GlmvErrorCode, isGlmvError } from "../util/errors.ts";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "./safetensors.ts";

const FIXTURE = fileURLToPath(new URL("../../test/fixtures/glm4v-tiny/model.safetensors", import.meta.url));

/** Hand-build a file from a header object and a data section, with an optional forced length prefix. */
function handMade(header: unknown, data: Uint8Array, lengthPrefix?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthPrefix ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectError(fn: () => unknown, code: GlmvErrorCode, mention: string): void {
  try {
    fn();
  } catch (e) {
    expect(isGlmvError(e)).toBe(true);
    if (!isGlmvError(e)) return;
    expect(e.code).toBe(code);
    expect(e.message).toContain(mention);
    return;
  }
  expect.unreachable("expected a GlmvError");
}

describe("round trips", () => {
  const values = new Float32Array([0, 1, -2.5, 3.140625, 1e-3, 65504, -1e-7, 123.456]);

  it("F32 is exact and the header is 8-byte aligned", () => {
    const bytes = writeSafetensors({ b: { shape: [2, 4], data: values } }, { metadata: { format: "pt" } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const t = readSafetensors(bytes).get("b");
    expect(t?.dtype).toBe("F32");
    expect(t?.shape).toEqual([2, 4]);
    expect(Array.from(t?.data ?? [])).toEqual(Array.from(values));
  });

  it("F16 and BF16 round to nearest within their precision", () => {
    for (const [dtype, rel] of [
      ["F16", 2 ** -11],
      ["BF16", 2 ** -8],
    ] as const) {
      const t = readSafetensors(writeSafetensors({ x: { shape: [8], data: values } }, { dtype })).get("x");
      expect(t?.dtype).toBe(dtype);
      values.forEach((v, i) => {
        const got = t?.data[i] ?? Number.NaN;
        // F16 flushes 1e-7 to a subnormal; allow its absolute step too.
        expect(Math.abs(got - v)).toBeLessThanOrEqual(Math.abs(v) * rel + (dtype === "F16" ? 2 ** -24 : 0));
      });
    }
  });

  it("exact F16/BF16 values survive bit-exactly, including ±inf and subnormals", () => {
    const exact = new Float32Array([1, -2, 0.5, 2 ** -24, 2 ** -14, Number.POSITIVE_INFINITY, -65504]);
    const f16 = readSafetensors(writeSafetensors({ x: { shape: [7], data: exact } }, { dtype: "F16" })).get(
      "x",
    );
    expect(Array.from(f16?.data ?? [])).toEqual(Array.from(exact));
    const bf = readSafetensors(
      writeSafetensors({ x: { shape: [3], data: exact.slice(0, 3) } }, { dtype: "BF16" }),
    );
    expect(Array.from(bf.get("x")?.data ?? [])).toEqual([1, -2, 0.5]);
  });

  it("int tensors are written as I64 (or I32) and read back as Int32Array", () => {
    const ids = new Int32Array([5, 17, -3, 2147483647]);
    for (const dtype of ["I64", "I32"] as const) {
      const t = readSafetensors(writeSafetensors({ ids: { shape: [1, 4], data: ids, dtype } })).get("ids");
      expect(t?.dtype).toBe(dtype);
      expect(t?.data).toBeInstanceOf(Int32Array);
      expect(Array.from(t?.data ?? [])).toEqual(Array.from(ids));
    }
  });
});

describe("corrupt files name the problem and the tensor", () => {
  const good = {
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
  };
  const data = new Uint8Array(12);

  it("accepts the hand-made reference", () => {
    expect([...readSafetensors(handMade(good, data)).keys()].sort()).toEqual(["a", "b"]);
  });

  it("truncated data section", () => {
    const bytes = handMade(good, data);
    expectError(() => readSafetensors(bytes.subarray(0, bytes.length - 4)), "checkpoint_corrupt", "b");
  });

  it("truncated before the length prefix ends", () => {
    expectError(() => readSafetensors(new Uint8Array(5)), "checkpoint_corrupt", "too short");
  });

  it("bad header length", () => {
    expectError(
      () => readSafetensors(handMade(good, data, 1n << 40n)),
      "checkpoint_corrupt",
      "bad header length",
    );
    expectError(() => readSafetensors(handMade(good, data, 10n)), "checkpoint_corrupt", "JSON");
  });

  it("offsets out of range", () => {
    const h = { ...good, b: { dtype: "F32", shape: [1], data_offsets: [8, 16] } };
    expectError(() => readSafetensors(handMade(h, data)), "checkpoint_corrupt", ":b");
  });

  it("overlapping tensors", () => {
    const h = {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    };
    expectError(() => readSafetensors(handMade(h, data)), "checkpoint_corrupt", "overlaps");
    expectError(() => readSafetensors(handMade(h, data)), "checkpoint_corrupt", ":b");
  });

  it("gap between tensors and size that does not match dtype × shape", () => {
    const gap = {
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
    };
    expectError(() => readSafetensors(handMade(gap, data)), "checkpoint_corrupt", "gap");
    const size = { a: { dtype: "F32", shape: [3], data_offsets: [0, 8] }, b: good.b };
    expectError(() => readSafetensors(handMade(size, data)), "checkpoint_corrupt", ":a");
  });

  it("unknown and unsupported dtypes", () => {
    const h = { ...good, b: { dtype: "Q4", shape: [1], data_offsets: [8, 12] } };
    expectError(() => readSafetensors(handMade(h, data)), "unsupported_dtype", ":b");
    const f8 = { ...good, b: { dtype: "F8_E4M3", shape: [4], data_offsets: [8, 12] } };
    expectError(() => readSafetensors(handMade(f8, data)), "unsupported_dtype", "F8_E4M3");
  });

  it("an I64 value that does not fit int32", () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 1n << 40n, true);
    const h = { ids: { dtype: "I64", shape: [1], data_offsets: [0, 8] } };
    expectError(() => readSafetensors(handMade(h, big)), "unsupported_dtype", "ids");
  });
});

describe("reference fixture", () => {
  it("model.safetensors loads with 56 fp32 tensors", () => {
    const tensors = readSafetensors(readFileSync(FIXTURE), { where: "model.safetensors" });
    expect(tensors.size).toBe(56);
    expect(tensors.get("lm_head.weight")?.shape).toEqual([300, 96]);
    expect(tensors.get("model.visual.patch_embed.proj.weight")?.shape).toEqual([64, 3, 2, 14, 14]);
    // Values match a direct little-endian read of the file (a Buffer input must not leak pooled bytes).
    const raw = readFileSync(FIXTURE);
    const n = Number(raw.readBigUInt64LE(0));
    const entry = JSON.parse(raw.subarray(8, 8 + n).toString("utf8"))["lm_head.weight"];
    const first = raw.readFloatLE(8 + n + entry.data_offsets[0]);
    expect(tensors.get("lm_head.weight")?.data[0]).toBe(first);
    expect(tensors.get("lm_head.weight")?.data.length).toBe(300 * 96);
    for (const t of tensors.values()) {
      expect(t.dtype).toBe("F32");
      expect(t.data.every(Number.isFinite)).toBe(true);
    }
  });

  it("the header-only reader agrees with the full reader", async () => {
    const header = await readSafetensorsHeader(FIXTURE);
    const full = readSafetensors(readFileSync(FIXTURE));
    expect(header.entries).toHaveLength(56);
    for (const e of header.entries) expect(full.get(e.key)?.shape).toEqual(e.shape);
  });

  it("the header-only reader rejects a truncated file on disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glmv-st-"));
    const path = join(dir, "cut.safetensors");
    writeFileSync(path, readFileSync(FIXTURE).subarray(0, 1000));
    await expect(readSafetensorsHeader(path)).rejects.toMatchObject({ code: "checkpoint_corrupt" });
    rmSync(dir, { recursive: true, force: true });
  });
});
