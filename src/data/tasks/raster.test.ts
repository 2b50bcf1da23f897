import { describe, expect, it } from "vitest";
import { inkBounds, readText } from "./glyph-reader.ts";
import {
  createRaster,
  drawLine,
  drawText,
  FONT,
  fillDisc,
  fillRect,
  getPixel,
  measureText,
  pixelIs,
  type Rgb,
} from "./raster.ts";

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

function countColour(img: ReturnType<typeof createRaster>, c: Rgb): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) if (pixelIs(img, x, y, c)) n++;
  return n;
}

describe("raster drawing", () => {
  it("creates a filled RGB buffer of the right size", () => {
    const img = createRaster(5, 3, [1, 2, 3]);
    expect(img.data.length).toBe(45);
    expect(getPixel(img, 4, 2)).toEqual([1, 2, 3]);
  });

  it("clips rectangles to the raster", () => {
    const img = createRaster(10, 10, WHITE);
    fillRect(img, 8, 8, 5, 5, BLACK);
    expect(countColour(img, BLACK)).toBe(4);
  });

  it("fills a disc with about πr² pixels", () => {
    const img = createRaster(40, 40, WHITE);
    fillDisc(img, 20, 20, 8, BLACK);
    expect(Math.abs(countColour(img, BLACK) - Math.PI * 64)).toBeLessThan(12);
    expect(pixelIs(img, 20, 20, BLACK)).toBe(true);
    expect(pixelIs(img, 29, 20, BLACK)).toBe(false);
  });

  it("draws lines through both endpoints", () => {
    const img = createRaster(10, 10, WHITE);
    drawLine(img, 0, 0, 9, 4, BLACK);
    expect(pixelIs(img, 0, 0, BLACK)).toBe(true);
    expect(pixelIs(img, 9, 4, BLACK)).toBe(true);
    expect(countColour(img, BLACK)).toBe(10);
  });
});

describe("bitmap font", () => {
  it("has distinct glyphs of 5 rows × 3 columns", () => {
    const keys = Object.entries(FONT).filter(([c]) => c !== " ");
    for (const [, g] of keys) {
      expect(g).toHaveLength(5);
      for (const row of g) expect(row).toMatch(/^[#.]{3}$/);
    }
    expect(new Set(keys.map(([, g]) => g.join(""))).size).toBe(keys.length);
  });

  it("round-trips every letter and digit through drawText and readText at scales 1–3", () => {
    const chars = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (let i = 0; i < chars.length; i += 3) {
      const text = chars.slice(i, i + 3);
      for (const scale of [1, 2, 3]) {
        const img = createRaster(48, 20, WHITE);
        drawText(img, text, 2, 2, BLACK, scale);
        expect(readText(img, BLACK)).toBe(text);
        const size = measureText(text, scale);
        expect(inkBounds(img, BLACK)).toEqual({ x: 2, y: 2, w: size.width, h: size.height });
      }
    }
  });

  it("reads operator expressions between digits", () => {
    const img = createRaster(56, 20, WHITE);
    drawText(img, "3+4*2-1", 1, 3, BLACK, 1);
    expect(readText(img, BLACK)).toBe("3+4*2-1");
  });

  it("rejects characters it has no glyph for", () => {
    expect(() => drawText(createRaster(10, 10, WHITE), "Ω", 0, 0, BLACK, 1)).toThrow(/no glyph/);
  });
});
