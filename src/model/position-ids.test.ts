import { describe, expect, it } from "vitest";
import { PRESETS } from "./config.ts";
import { decodePositions, getRopeIndex } from "./position-ids.ts";

const cfg = PRESETS["glm-4.1v-9b"];
const T = cfg.tokens;

describe("getRopeIndex", () => {
  it("text only: cumsum of the mask, masked slots get 1", () => {
    const r = getRopeIndex([[1, 2, 3, 4]], cfg, { attentionMask: [[0, 1, 1, 1]] });
    expect(r.positions[0]).toEqual([
      [1, 0, 1, 2],
      [1, 0, 1, 2],
      [1, 0, 1, 2],
    ]);
    expect(r.ropeDeltas).toEqual([2 + 1 - 4]);
  });

  it("an image run uses (st, st+row, st+col) and the next text starts after the max", () => {
    // spec §4.2 worked example, shrunk: grid (1, 4, 6) → 2×3 merged tokens
    const ids = [7, T.imageStartTokenId, ...Array(6).fill(T.imageTokenId), T.imageEndTokenId, 9];
    const r = getRopeIndex([ids], cfg, { imageGridThw: [[1, 4, 6]] });
    const [t, h, w] = r.positions[0]!;
    expect(t).toEqual([0, 1, 2, 2, 2, 2, 2, 2, 5, 6]);
    expect(h).toEqual([0, 1, 2, 2, 2, 3, 3, 3, 5, 6]);
    expect(w).toEqual([0, 1, 2, 3, 4, 2, 3, 4, 5, 6]);
    expect(r.ropeDeltas).toEqual([7 - 10]);
  });

  it("the spec's 1000×700 example: grid (1,50,72) → next text at st + 36", () => {
    const ids = [T.imageStartTokenId, ...Array(900).fill(T.imageTokenId), T.imageEndTokenId];
    const r = getRopeIndex([ids], cfg, { imageGridThw: [[1, 50, 72]] });
    expect(r.positions[0]![0]!.at(-1)).toBe(1 + 36);
    expect(Math.max(...r.positions[0]![1]!.slice(1, 901))).toBe(1 + 24);
    expect(Math.max(...r.positions[0]![2]!.slice(1, 901))).toBe(1 + 35);
  });

  it("each video temporal patch is its own run with t offset 0 (time comes from the offsets)", () => {
    const frame = [T.imageStartTokenId, T.imageTokenId, T.imageTokenId, T.imageEndTokenId, 5];
    const ids = [T.videoStartTokenId, ...frame, ...frame, T.videoEndTokenId];
    const r = getRopeIndex([ids], cfg, { videoGridThw: [[2, 2, 4]] });
    const [t, , w] = r.positions[0]!;
    // bov 0, boi 1, frame tokens at st = 2: t 2,2 w 2,3; eoi 4, "5" 5, boi 6, frame st = 7
    expect(t).toEqual([0, 1, 2, 2, 4, 5, 6, 7, 7, 9, 10, 11]);
    expect(w).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("an image token inside a video span counts as video", () => {
    const ids = [T.videoStartTokenId, T.imageTokenId, T.videoEndTokenId];
    expect(() => getRopeIndex([ids], cfg, { imageGridThw: [[1, 2, 2]] })).toThrow(/video/);
  });

  it("grids are consumed across the batch in order", () => {
    const row = [T.imageTokenId, 3];
    const r = getRopeIndex([row, row], cfg, {
      imageGridThw: [
        [1, 2, 2],
        [1, 2, 2],
      ],
    });
    expect(r.positions[1]).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it("decode positions add the delta", () => {
    expect(decodePositions(10, -3)).toEqual([7, 7, 7]);
  });
});
