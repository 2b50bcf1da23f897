import { describe, expect, it } from "vitest";
import { COUNTING, generateCounting } from "../../src/data/tasks/counting.ts";
import { DISTRACTOR_COLOURS, TARGET_COLOURS } from "../../src/data/tasks/layout.ts";
import { pixelIs, type Rgb, type RgbImage } from "../../src/data/tasks/raster.ts";
import { parseCount } from "../../src/reward/numbers.ts";
import { createRng } from "../../src/util/rng.ts";

/** Number of 4-connected blobs of pixels whose colour is in `palette`. */
function countBlobs(img: RgbImage, palette: readonly Rgb[]): number {
  const inPalette = (x: number, y: number) => palette.some((c) => pixelIs(img, x, y, c));
  const seen = new Uint8Array(img.width * img.height);
  let blobs = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (seen[y * img.width + x] || !inPalette(x, y)) continue;
      blobs++;
      const stack = [[x, y] as const];
      seen[y * img.width + x] = 1;
      while (stack.length > 0) {
        const [px, py] = stack.pop()!;
        for (const [nx, ny] of [
          [px + 1, py],
          [px - 1, py],
          [px, py + 1],
          [px, py - 1],
        ] as const) {
          if (nx < 0 || ny < 0 || nx >= img.width || ny >= img.height) continue;
          if (seen[ny * img.width + nx] || !inPalette(nx, ny)) continue;
          seen[ny * img.width + nx] = 1;
          stack.push([nx, ny]);
        }
      }
    }
  }
  return blobs;
}

describe("counting family", () => {
  it("renders exactly as many separate dots as the answer says, at every level and size", () => {
    for (const size of [28, 56, 112]) {
      for (const level of COUNTING.levels) {
        for (const cls of COUNTING.answerClasses(level)) {
          for (let seed = 0; seed < 3; seed++) {
            const item = generateCounting(createRng(seed * 1000 + level), { level, answerClass: cls, size });
            expect(parseCount(item.answer)).toBe(Number(cls));
            expect(countBlobs(item.image, TARGET_COLOURS)).toBe(Number(cls));
            const distractors = countBlobs(item.image, DISTRACTOR_COLOURS);
            if (level === 1) expect(distractors).toBe(0);
            else expect(distractors).toBeGreaterThan(0);
          }
        }
      }
    }
  });

  it("is deterministic by seed", () => {
    const a = generateCounting(createRng(5), { level: 3, answerClass: "6", size: 56 });
    const b = generateCounting(createRng(5), { level: 3, answerClass: "6", size: 56 });
    const c = generateCounting(createRng(6), { level: 3, answerClass: "6", size: 56 });
    expect(b.image.data).toEqual(a.image.data);
    expect(c.image.data).not.toEqual(a.image.data);
  });

  it("rejects unknown classes, levels and sizes", () => {
    expect(() => generateCounting(createRng(1), { level: 1, answerClass: "10", size: 56 })).toThrow(/class/);
    expect(() => generateCounting(createRng(1), { level: 4, answerClass: "1", size: 56 })).toThrow(/level/);
    expect(() => generateCounting(createRng(1), { level: 1, answerClass: "1", size: 20 })).toThrow(/size/);
  });
});
