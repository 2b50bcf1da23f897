import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type GlmvErrorCode, isGlmvError } from "../util/errors.ts";
import {
  patchify,
  processImage,
  processRawImage,
  type RawImage,
  roundHalfEven,
  smartResize,
} from "./processor.ts";
import { readSafetensors } from "./safetensors.ts";

const FIXTURE_DIR = new URL("../../test/fixtures/glm4v-tiny/", import.meta.url);
const fixture = JSON.parse(readFileSync(new URL("processor_fixture.json", FIXTURE_DIR), "utf8")) as {
  resized_size_hw: [number, number];
  image_grid_thw: [[number, number, number]];
  pixel_values_shape: [number, number];
  pixel_values_first64: number[];
  pixel_values_sum: number;
  pixel_values_abs_sum: number;
  processor_config: { size: { shortest_edge: number; longest_edge: number } };
};

async function expectInvalid(fn: () => unknown, mention: RegExp, code: GlmvErrorCode = "image_invalid") {
  try {
    await fn();
  } catch (e) {
    expect(isGlmvError(e) && e.code).toBe(code);
    expect((e as Error).message).toMatch(mention);
    return;
  }
  expect.unreachable("expected a GlmvError");
}

const solid = (width: number, height: number, channels = 3, value = 128): RawImage => ({
  data: new Uint8Array(width * height * channels).fill(value),
  width,
  height,
  channels,
});

describe("smartResize", () => {
  const budget = { minPixels: 12544, maxPixels: 9633792 };

  it("rounds each side to the nearest multiple of 28 (spec worked example 1000x700)", () => {
    expect(smartResize(2, 700, 1000, budget)).toEqual([700, 1008]);
    expect(smartResize(2, 100, 150, { minPixels: 12544, maxPixels: 11760000 })).toEqual([112, 140]);
  });

  it("rounds half to even like Python", () => {
    expect([roundHalfEven(0.5), roundHalfEven(1.5), roundHalfEven(2.5), roundHalfEven(2.4)]).toEqual([
      0, 2, 2, 2,
    ]);
    expect(smartResize(2, 70, 70, { minPixels: 1 })).toEqual([56, 56]); // 70/28 = 2.5 → 2
    expect(smartResize(2, 98, 98, { minPixels: 1 })).toEqual([112, 112]); // 3.5 → 4
  });

  it("scales sides under 28 up first", () => {
    expect(smartResize(2, 10, 300, { minPixels: 1 })).toEqual([28, 840]);
    expect(smartResize(2, 20, 20, { minPixels: 1 })).toEqual([28, 28]);
  });

  it("shrinks into the max budget and grows into the min budget", () => {
    const [h, w] = smartResize(2, 4000, 6000, budget);
    expect(2 * h * w).toBeLessThanOrEqual(budget.maxPixels);
    expect([h % 28, w % 28]).toEqual([0, 0]);
    expect([h, w]).toEqual([1792, 2688]); // β = √(2·4000·6000/9633792) = 2.2321…: 4000/β = 1792 = 64·28 exactly
    expect(smartResize(2, 56, 56, budget)).toEqual([84, 84]); // 2·56·56 = 6272 < 12544 → β = √2 → ⌈79.2/28⌉·28
    expect(smartResize(2, 56, 56, { minPixels: 28 * 28 })).toEqual([56, 56]); // tiny preset: small minPixels
  });

  it("rejects aspect ratios over 200, empty images and too few frames", async () => {
    await expectInvalid(() => smartResize(2, 28, 28 * 201), /aspect ratio .* exceeds 200/);
    expect(smartResize(2, 28, 28 * 200, { minPixels: 1, maxPixels: 1e9 })).toEqual([28, 5600]);
    await expectInvalid(() => smartResize(2, 0, 50), /too small/);
    await expectInvalid(() => smartResize(1, 56, 56), /fewer than the temporal patch/);
  });
});

describe("processImage parity with the HF slow processor fixture", () => {
  it("matches resized size, grid, first 64 values, sum and abs-sum", async () => {
    const png = readFileSync(new URL("processor_input.png", FIXTURE_DIR));
    const { size } = fixture.processor_config;
    const r = await processImage(png, { minPixels: size.shortest_edge, maxPixels: size.longest_edge });
    expect(r.resizedHw).toEqual(fixture.resized_size_hw);
    expect(r.gridThw).toEqual(fixture.image_grid_thw[0]);
    expect(r.pixelValues.length).toBe(fixture.pixel_values_shape[0] * fixture.pixel_values_shape[1]);
    expect(r.numImageTokens).toBe(20);
    fixture.pixel_values_first64.forEach((v, i) => {
      expect(Math.abs((r.pixelValues[i] ?? 0) - v)).toBeLessThanOrEqual(1e-6);
    });
    let sum = 0;
    let abs = 0;
    for (const v of r.pixelValues) {
      sum += v;
      abs += Math.abs(v);
    }
    expect(Math.abs(sum - fixture.pixel_values_sum)).toBeLessThan(1e-3);
    expect(Math.abs(abs - fixture.pixel_values_abs_sum)).toBeLessThan(1e-3);
  });

  it("matches every value of processor.pixel_values in fixtures.safetensors", async () => {
    const png = readFileSync(new URL("processor_input.png", FIXTURE_DIR));
    const r = await processImage(png);
    const ref = readSafetensors(readFileSync(new URL("fixtures.safetensors", FIXTURE_DIR))).get(
      "processor.pixel_values",
    );
    let maxDiff = 0;
    ref?.data.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - (r.pixelValues[i] ?? Number.NaN)));
    });
    expect(ref?.shape).toEqual([80, 1176]);
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
  });
});

describe("processRawImage", () => {
  it("a 56x56 image passes with the tiny preset's small minPixels: grid [1,4,4], 4 tokens", () => {
    const r = processRawImage(solid(56, 56), { minPixels: 784 });
    expect(r.gridThw).toEqual([1, 4, 4]);
    expect(r.numImageTokens).toBe(4);
    expect(r.pixelValues.length).toBe(16 * 1176);
  });

  it("grey, grey+alpha and RGBA inputs equal the same RGB image", () => {
    const rgb = processRawImage(solid(60, 60, 3, 77), { minPixels: 784 }).pixelValues;
    for (const ch of [1, 2, 4]) {
      const img = solid(60, 60, ch, 77);
      expect(Array.from(processRawImage(img, { minPixels: 784 }).pixelValues.subarray(0, 500))).toEqual(
        Array.from(rgb.subarray(0, 500)),
      );
    }
  });

  it("names the problem for bad input", async () => {
    await expectInvalid(() => processRawImage(solid(30, 7000)), /too thin/);
    await expectInvalid(() => processRawImage(solid(100, 100), { maxInputPixels: 5000 }), /too large/);
    await expectInvalid(
      () => processRawImage({ ...solid(10, 10), data: new Uint8Array(5) }),
      /expected 300 bytes/,
    );
    await expectInvalid(() => processImage(new Uint8Array([1, 2, 3, 4])), /cannot decode/);
  });
});

describe("patchify", () => {
  it("orders rows by 2x2 merge windows and columns as (C, T, py, px), duplicating a single frame", () => {
    // A 56x56 single-channel ramp so every pixel value says where it came from.
    const H = 56;
    const W = 56;
    const frame = new Float32Array(3 * H * W).map((_, i) => i);
    const { pixelValues, gridThw } = patchify([frame], H, W);
    expect(gridThw).toEqual([1, 4, 4]);
    const row = (r: number) => pixelValues.subarray(r * 1176, (r + 1) * 1176);
    // Row 1 is window (0,0) inner (0,1): patch at rows 0..13, cols 14..27.
    expect(row(1)[0]).toBe(14);
    // Row 2 is inner (1,0): patch rows 14..27, cols 0..13.
    expect(row(2)[0]).toBe(14 * W);
    // Row 4 is window (0,1): patch cols 28..41.
    expect(row(4)[0]).toBe(28);
    // Within a row: t=1 repeats t=0; channel 1 starts after 2·196 values.
    expect(Array.from(row(0).subarray(196, 392))).toEqual(Array.from(row(0).subarray(0, 196)));
    expect(row(0)[392]).toBe(H * W);
    expect(row(0)[14]).toBe(W); // py = 1
  });
});
