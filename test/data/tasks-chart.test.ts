import { describe, expect, it } from "vitest";
import { BAR_LABELS, CHART, chartLayout, generateChart } from "../../src/data/tasks/chart.ts";
import { readText } from "../../src/data/tasks/glyph-reader.ts";
import { INK, TARGET_COLOURS } from "../../src/data/tasks/layout.ts";
import { pixelIs, type RgbImage } from "../../src/data/tasks/raster.ts";
import { parsePlainNumber } from "../../src/reward/numbers.ts";
import { createRng } from "../../src/util/rng.ts";

/** Find bars by scanning columns for bar-coloured pixels; returns each bar's left x, width and pixel height. */
function scanBars(img: RgbImage): { x: number; w: number; height: number }[] {
  const colHeight = (x: number) => {
    let h = 0;
    for (let y = 0; y < img.height; y++) if (TARGET_COLOURS.some((c) => pixelIs(img, x, y, c))) h++;
    return h;
  };
  const bars: { x: number; w: number; height: number }[] = [];
  for (let x = 0; x < img.width; x++) {
    const h = colHeight(x);
    if (h === 0) continue;
    const last = bars.at(-1);
    if (last && last.x + last.w === x) {
      expect(h).toBe(last.height);
      last.w++;
    } else bars.push({ x, w: 1, height: h });
  }
  return bars;
}

describe("chart family", () => {
  it("draws level + 1 labelled bars whose heights are the values the answer relies on", () => {
    for (const size of [28, 56, 112]) {
      for (const level of CHART.levels) {
        for (const cls of CHART.answerClasses(level)) {
          const item = generateChart(createRng(size * 31 + level), { level, answerClass: cls, size });
          const layout = chartLayout(size, level + 1);
          const bars = scanBars(item.image);
          expect(bars).toHaveLength(level + 1);
          const values = bars.map((b) => {
            expect(b.height % layout.unit).toBe(0);
            return b.height / layout.unit;
          });
          bars.forEach((b, i) => {
            const label = readText(item.image, INK, {
              x: b.x - 2,
              y: layout.labelY,
              w: b.w + 4,
              h: size - layout.labelY,
            });
            expect(label).toBe(BAR_LABELS[i]);
          });
          if (cls.startsWith("tallest:")) {
            const top = Math.max(...values);
            expect(values.filter((v) => v === top)).toHaveLength(1);
            expect(item.answer).toBe(BAR_LABELS[values.indexOf(top)]);
            expect(item.question).toBe("which bar is tallest?");
          } else {
            const asked = /^value of bar ([a-d])\?$/.exec(item.question)![1]!;
            expect(parsePlainNumber(item.answer)?.value).toBe(values[BAR_LABELS.indexOf(asked as "a")]);
          }
        }
      }
    }
  });
});
