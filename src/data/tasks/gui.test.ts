import { describe, expect, it } from "vitest";
import { createRng } from "../../util/rng.ts";
import { parseBox, parsePoint, pointInBox } from "./coords.ts";
import { readText } from "./glyph-reader.ts";
import { BUTTON_LABELS, GUI, generateGui } from "./gui.ts";
import { INK } from "./layout.ts";
import { pixelIs } from "./raster.ts";

describe("gui family", () => {
  it("gold box frames the button whose label the question names; the response point lies inside", () => {
    for (const size of [28, 56, 112]) {
      for (const level of GUI.levels) {
        for (const cls of GUI.answerClasses(level)) {
          for (let seed = 0; seed < 4; seed++) {
            const item = generateGui(createRng(seed * 11 + level + size), { level, answerClass: cls, size });
            const label = /^click ([a-z]+)\.$/.exec(item.question)![1]!;
            expect(BUTTON_LABELS).toContain(label);
            const gold = parseBox(item.answer)!;
            expect(gold).not.toBeNull();
            expect(pointInBox(parsePoint(item.responseAnswer)!, gold)).toBe(true);
            // Back to pixels: the box's corners are the button's 1-px ink border, its inside shows the label.
            const x0 = Math.ceil((gold[0] * size) / 1000);
            const y0 = Math.ceil((gold[1] * size) / 1000);
            const x1 = Math.floor(((gold[2] + 1) * size) / 1000) - 1;
            const y1 = Math.floor(((gold[3] + 1) * size) / 1000) - 1;
            for (const [x, y] of [
              [x0, y0],
              [x1, y1],
            ] as const)
              expect(pixelIs(item.image, x, y, INK)).toBe(true);
            const inside = { x: x0 + 1, y: y0 + 1, w: x1 - x0 - 1, h: y1 - y0 - 1 };
            expect(readText(item.image, INK, inside)).toBe(label);
            // The quadrant of the box is the class (slot 0–3, row-major).
            const slot = (gold[1] >= 500 ? 2 : 0) + (gold[0] >= 500 ? 1 : 0);
            expect(String(slot)).toBe(cls);
          }
        }
      }
    }
  });
});
