import { describe, expect, it } from "vitest";
import { createRng } from "../../util/rng.ts";
import { boxCentre, boxIou, parseBox, pixelRectToBox, pointInBox } from "./coords.ts";
import { inkBounds } from "./glyph-reader.ts";
import { GROUNDING, generateGrounding } from "./grounding.ts";
import { TARGET_COLOURS } from "./layout.ts";

describe("grounding family", () => {
  it("answers the grid-cell box that tightly holds the rendered dot", () => {
    for (const size of [28, 56, 112]) {
      for (const level of GROUNDING.levels) {
        for (const cls of GROUNDING.answerClasses(level)) {
          const item = generateGrounding(createRng(size + level * 100 + cls.length), {
            level,
            answerClass: cls,
            size,
          });
          const gold = parseBox(item.answer);
          expect(gold).not.toBeNull();
          const dot = TARGET_COLOURS.map((c) => inkBounds(item.image, c)).filter((b) => b !== null);
          expect(dot).toHaveLength(1);
          const d = dot[0]!;
          const dotBox = pixelRectToBox(d.x, d.y, d.w, d.h, size, size);
          expect(boxIou(dotBox, gold!)).toBeGreaterThanOrEqual(0.5);
          expect(pointInBox(boxCentre(dotBox), gold!)).toBe(true);
          const [, row, col] = /^r(\d)c(\d)$/.exec(cls)!;
          expect(gold).toEqual([
            Number(col) * 250,
            Number(row) * 250,
            Number(col) * 250 + 249,
            Number(row) * 250 + 249,
          ]);
        }
      }
    }
  });

  it("uses 16 distinct answers", () => {
    const answers = GROUNDING.answerClasses(1).map(
      (cls) => generateGrounding(createRng(1), { level: 1, answerClass: cls, size: 56 }).answer,
    );
    expect(new Set(answers).size).toBe(16);
  });
});
