/**
 * Read text back from a raster rendered with the built-in font: the exact inverse of `drawText` for one line
 * of one ink colour. Used to check that a rendered image really shows what an item claims (tests, audits).
 */
import { FONT, GLYPH_HEIGHT, GLYPH_WIDTH, pixelIs, type Rgb, type RgbImage } from "./raster.ts";

/** A pixel rectangle to search in (defaults to the whole image). */
export type Region = { x: number; y: number; w: number; h: number };

/** The bounding box of every pixel of exactly `color` inside `region`, or null when there is none. */
export function inkBounds(img: RgbImage, color: Rgb, region?: Region): Region | null {
  const r = region ?? { x: 0, y: 0, w: img.width, h: img.height };
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = -1;
  let y1 = -1;
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) {
      if (!pixelIs(img, x, y, color)) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Decode one line of text drawn in `color`. The ink's bounding box gives the scale (glyph height 5) and the
 * glyph count; glyphs whose ink touches their cell's first and last column and row (all letters and digits)
 * are located exactly. Returns null when a cell matches no glyph.
 * @example readText(img, [20, 20, 20]) // "3+4"
 */
export function readText(img: RgbImage, color: Rgb, region?: Region): string | null {
  const box = inkBounds(img, color, region);
  if (!box || box.h % GLYPH_HEIGHT !== 0) return null;
  const scale = box.h / GLYPH_HEIGHT;
  const cells = (box.w / scale + 1) / (GLYPH_WIDTH + 1);
  if (!Number.isInteger(cells)) return null;
  let text = "";
  for (let i = 0; i < cells; i++) {
    const rows: string[] = [];
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      let row = "";
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        const x = box.x + (i * (GLYPH_WIDTH + 1) + gx) * scale;
        row += pixelIs(img, x, box.y + gy * scale, color) ? "#" : ".";
      }
      rows.push(row);
    }
    const key = rows.join("");
    const ch = Object.keys(FONT).find((c) => FONT[c]!.join("") === key);
    if (ch === undefined) return null;
    text += ch;
  }
  return text;
}
