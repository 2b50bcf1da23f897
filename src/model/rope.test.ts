import { describe, expect, it } from "vitest";
import {
  inverseFrequencies,
  rotateHalfMatrix,
  rotatePairsMatrix,
  textRopeTable,
  visionPatchIds,
  visionRopeTable,
} from "./rope.ts";

function vecMat(x: number[], r: Float32Array): number[] {
  const d = x.length;
  return Array.from({ length: d }, (_, j) => x.reduce((a, xi, i) => a + xi * r[i * d + j]!, 0));
}

describe("rope", () => {
  it("inverse frequencies are theta^(−2k/dim)", () => {
    const f = inverseFrequencies(64);
    expect(f.length).toBe(32);
    expect(f[0]).toBe(1);
    expect(f[1]).toBeCloseTo(10000 ** (-2 / 64), 12);
  });

  it("patch ids follow merge-window order", () => {
    const ids = visionPatchIds(1, 4, 4, 2);
    expect(ids.slice(0, 8)).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
    ]);
    expect(visionPatchIds(2, 2, 2, 2)).toHaveLength(8);
  });

  it("vision table is concat(θ, θ) with θ = [r·f, c·f]", () => {
    const { cos, sin } = visionRopeTable([[3, 5]], 16);
    const f = inverseFrequencies(8);
    for (let k = 0; k < 4; k++) {
      expect(cos[k]).toBeCloseTo(Math.cos(3 * f[k]!), 6);
      expect(sin[4 + k]).toBeCloseTo(Math.sin(5 * f[k]!), 6);
      expect(cos[8 + k]).toBeCloseTo(Math.cos(3 * f[k]!), 6);
      expect(sin[12 + k]).toBeCloseTo(Math.sin(5 * f[k]!), 6);
    }
  });

  it("rotate-half matrix maps [a, b] to [−b, a]", () => {
    expect(vecMat([1, 2, 3, 4], rotateHalfMatrix(4))).toEqual([-3, -4, 1, 2]);
  });

  it("pair matrix rotates (2k, 2k+1) over the rotary dims only", () => {
    expect(vecMat([1, 2, 3, 4, 5, 6], rotatePairsMatrix(6, 4))).toEqual([-2, 1, -4, 3, 0, 0]);
  });

  it("text table: sections pick t/h/w per slot, pairs repeat, the rest passes through", () => {
    const hd = 8;
    const rot = 6; // 3 slots, sections [1, 1, 1]
    const { cos, sin } = textRopeTable([[2], [3], [5]], hd, rot, [1, 1, 1]);
    const f = inverseFrequencies(rot);
    const want = [2 * f[0]!, 3 * f[1]!, 5 * f[2]!];
    want.forEach((a, k) => {
      expect(cos[2 * k]).toBeCloseTo(Math.cos(a), 6);
      expect(cos[2 * k + 1]).toBeCloseTo(Math.cos(a), 6);
      expect(sin[2 * k + 1]).toBeCloseTo(Math.sin(a), 6);
    });
    expect([cos[6], cos[7], sin[6], sin[7]]).toEqual([1, 1, 0, 0]);
  });
});
