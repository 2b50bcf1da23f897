import { describe, expect, it } from "vitest";
import { bicubicPosWeights, cubicWeights } from "./bicubic.ts";

const grid = (h: number, w: number) => {
  const ids: Array<[number, number]> = [];
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) ids.push([r, c]);
  return ids;
};

describe("bicubic position weights", () => {
  it("cubic weights at t = 0 pick the centre tap and always sum to 1", () => {
    expect(cubicWeights(0)).toEqual([0, 1, 0, 0]);
    for (const t of [0.1, 0.25, 0.5, 0.9]) {
      const w = cubicWeights(t);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it("a grid equal to the table size is the identity", () => {
    const w = bicubicPosWeights(grid(4, 4), 4, 4, 4);
    for (let i = 0; i < 16; i++)
      for (let j = 0; j < 16; j++) expect(w[i * 16 + j]).toBeCloseTo(i === j ? 1 : 0, 6);
  });

  it("every row sums to 1 for up- and down-sampling", () => {
    for (const [h, w] of [
      [8, 12],
      [2, 2],
      [6, 10],
    ] as const) {
      const m = bicubicPosWeights(grid(h, w), h, w, 4);
      for (let i = 0; i < h * w; i++) {
        let s = 0;
        for (let j = 0; j < 16; j++) s += m[i * 16 + j]!;
        expect(s).toBeCloseTo(1, 5);
      }
    }
  });

  it("is symmetric: a ramp sampled at mirrored points sums to the mirrored total", () => {
    // table value = column index; on an 8-wide grid, c = 3 and 4 sample ix = 1.25 and 1.75 (mirror about 1.5)
    const m = bicubicPosWeights(grid(1, 8), 1, 8, 4);
    const at = (c: number) => {
      let v = 0;
      for (let j = 0; j < 16; j++) v += m[c * 16 + j]! * (j % 4);
      return v;
    };
    expect(at(3) + at(4)).toBeCloseTo(3, 5);
    expect(at(3)).toBeGreaterThan(1);
    expect(at(3)).toBeLessThan(1.5);
  });

  it("clamps each tap to the border on its own", () => {
    // c = 0 on an 8-wide grid: ix = −0.25 → x0 = −1, t = 0.75; taps −2, −1, 0 clamp to column 0
    const m = bicubicPosWeights([[0, 0]], 4, 8, 4);
    const [w0, w1, w2, w3] = cubicWeights(0.75);
    // row: iy = (0.5)·4/4 − 0.5 = 0 → only table row 0
    expect(m[0]).toBeCloseTo(w0 + w1 + w2, 6);
    expect(m[1]).toBeCloseTo(w3, 6);
    expect(m[2]).toBe(0);
    expect(m[4]).toBeCloseTo(0, 7);
  });
});
