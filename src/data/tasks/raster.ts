/**
 * A tiny RGB raster with the few drawing operations the synthetic tasks need, and a built-in 3×5 bitmap
 * font so text renders identically on machines without any system fonts (CI runners often have none).
 * All drawing clips to the raster and mutates it in place; create one raster per item.
 */
import { GlmvError } from "../../util/errors.ts";

/** An RGB image, row-major, 3 bytes per pixel. */
export type RgbImage = { width: number; height: number; data: Uint8Array };

/** An RGB colour, each channel 0–255. */
export type Rgb = readonly [number, number, number];

/**
 * A blank raster filled with one colour.
 * @example const img = createRaster(56, 56, [255, 255, 255]);
 */
export function createRaster(width: number, height: number, background: Rgb): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(background, i * 3);
  return { width, height, data };
}

/** Set one pixel; outside the raster is a no-op. */
export function setPixel(img: RgbImage, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.data.set(color, (y * img.width + x) * 3);
}

/** Read one pixel (must be inside the raster). */
export function getPixel(img: RgbImage, x: number, y: number): Rgb {
  const i = (y * img.width + x) * 3;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

/** Whether the pixel at (x, y) has exactly this colour. */
export function pixelIs(img: RgbImage, x: number, y: number, color: Rgb): boolean {
  const i = (y * img.width + x) * 3;
  return img.data[i] === color[0] && img.data[i + 1] === color[1] && img.data[i + 2] === color[2];
}

/** Fill the axis-aligned rectangle with top-left (x, y) and size w × h. */
export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, color: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(img.width, x + w); xx++) setPixel(img, xx, yy, color);
  }
}

/** Draw a 1-pixel rectangle outline (for GUI buttons). */
export function strokeRect(img: RgbImage, x: number, y: number, w: number, h: number, color: Rgb): void {
  fillRect(img, x, y, w, 1, color);
  fillRect(img, x, y + h - 1, w, 1, color);
  fillRect(img, x, y, 1, h, color);
  fillRect(img, x + w - 1, y, 1, h, color);
}

/** Fill a disc: every pixel whose centre lies within `radius` of (cx, cy). */
export function fillDisc(img: RgbImage, cx: number, cy: number, radius: number, color: Rgb): void {
  const r2 = radius * radius;
  for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++) {
    for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= r2) setPixel(img, x, y, color);
    }
  }
}

/** Draw a 1-pixel line from (x0, y0) to (x1, y1) inclusive (Bresenham). */
export function drawLine(img: RgbImage, x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    setPixel(img, x0, y0, color);
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** Glyph cell size of the built-in font, before scaling. */
export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/**
 * The built-in font: each glyph is 5 rows of 3 cells, `#` = ink. Letters are drawn in a small-caps style
 * (3×5 has no room for ascenders); every glyph is distinct so text can be read back exactly.
 */
export const FONT: Readonly<Record<string, readonly string[]>> = {
  "0": ["###", "#.#", "#.#", "#.#", "###"],
  "1": [".#.", "##.", ".#.", ".#.", "###"],
  "2": ["###", "..#", "###", "#..", "###"],
  "3": ["###", "..#", ".##", "..#", "###"],
  "4": ["#.#", "#.#", "###", "..#", "..#"],
  "5": ["###", "#..", "###", "..#", "###"],
  "6": ["###", "#..", "###", "#.#", "###"],
  "7": ["###", "..#", "..#", ".#.", ".#."],
  "8": ["###", "#.#", "###", "#.#", "###"],
  "9": ["###", "#.#", "###", "..#", "###"],
  a: [".#.", "#.#", "###", "#.#", "#.#"],
  b: ["##.", "#.#", "##.", "#.#", "##."],
  c: [".##", "#..", "#..", "#..", ".##"],
  d: ["##.", "#.#", "#.#", "#.#", "##."],
  e: ["###", "#..", "##.", "#..", "###"],
  f: ["###", "#..", "##.", "#..", "#.."],
  g: [".##", "#..", "#.#", "#.#", ".##"],
  h: ["#.#", "#.#", "###", "#.#", "#.#"],
  i: ["###", ".#.", ".#.", ".#.", "###"],
  j: ["..#", "..#", "..#", "#.#", ".#."],
  k: ["#.#", "#.#", "##.", "#.#", "#.#"],
  l: ["#..", "#..", "#..", "#..", "###"],
  m: ["#.#", "###", "###", "#.#", "#.#"],
  n: ["##.", "#.#", "#.#", "#.#", "#.#"],
  o: [".#.", "#.#", "#.#", "#.#", ".#."],
  p: ["##.", "#.#", "##.", "#..", "#.."],
  q: [".#.", "#.#", "#.#", "##.", ".##"],
  r: ["##.", "#.#", "##.", "#.#", "#.#"],
  s: [".##", "#..", ".#.", "..#", "##."],
  t: ["###", ".#.", ".#.", ".#.", ".#."],
  u: ["#.#", "#.#", "#.#", "#.#", "###"],
  v: ["#.#", "#.#", "#.#", "#.#", ".#."],
  w: ["#.#", "#.#", "###", "###", "#.#"],
  x: ["#.#", "#.#", ".#.", "#.#", "#.#"],
  y: ["#.#", "#.#", ".#.", ".#.", ".#."],
  z: ["###", "..#", ".#.", "#..", "###"],
  "+": ["...", ".#.", "###", ".#.", "..."],
  "-": ["...", "...", "###", "...", "..."],
  "*": ["...", "#.#", ".#.", "#.#", "..."],
  "=": ["...", "###", "...", "###", "..."],
  "?": ["##.", "..#", ".#.", "...", ".#."],
  ".": ["...", "...", "...", "...", ".#."],
  ",": ["...", "...", "...", ".#.", "#.."],
  ":": ["...", ".#.", "...", ".#.", "..."],
  "[": ["##.", "#..", "#..", "#..", "##."],
  "]": [".##", "..#", "..#", "..#", ".##"],
  "(": [".#.", "#..", "#..", "#..", ".#."],
  ")": [".#.", "..#", "..#", "..#", ".#."],
  " ": ["...", "...", "...", "...", "..."],
};

/** Pixel size of `text` at `scale`: glyphs are separated by one scaled column. */
export function measureText(text: string, scale: number): { width: number; height: number } {
  const n = text.length;
  return { width: n === 0 ? 0 : (n * (GLYPH_WIDTH + 1) - 1) * scale, height: GLYPH_HEIGHT * scale };
}

/**
 * Draw `text` with its top-left corner at (x, y), each font cell a `scale` × `scale` block.
 * Throws for a character the font lacks, so a generator can never silently render a blank.
 * @example drawText(img, "3+4", 10, 20, [0, 0, 0], 2);
 */
export function drawText(img: RgbImage, text: string, x: number, y: number, color: Rgb, scale: number): void {
  let cursor = x;
  for (const ch of text) {
    const glyph = FONT[ch];
    if (!glyph) throw new GlmvError("bad_input", `no glyph for ${JSON.stringify(ch)}`, { where: "drawText" });
    glyph.forEach((row, gy) => {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (row[gx] === "#") fillRect(img, cursor + gx * scale, y + gy * scale, scale, scale, color);
      }
    });
    cursor += (GLYPH_WIDTH + 1) * scale;
  }
}
