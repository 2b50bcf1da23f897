/**
 * Pixel ↔ 0–999 coordinate helpers. GLM-V grounding and GUI answers give x divided by the width and y by
 * the height, scaled by 1000, as integers 0–999 (reward-spec-official.md, README "Grounding").
 */

/** A box `[x1, y1, x2, y2]` (top-left, bottom-right, inclusive) in 0–999 units. */
export type Box = readonly [number, number, number, number];
/** A point `[x, y]` in 0–999 units. */
export type Point = readonly [number, number];

/**
 * Convert the pixel rectangle (x, y, w, h) of an image to an inclusive 0–999 box.
 * A cell of a 4 × 4 grid on any size maps to [0,249], [250,499], [500,749] or [750,999].
 * @example pixelRectToBox(14, 0, 14, 14, 56, 56) // [250, 0, 499, 249]
 */
export function pixelRectToBox(
  x: number,
  y: number,
  w: number,
  h: number,
  width: number,
  height: number,
): Box {
  const lo = (v: number, size: number) => Math.min(999, Math.max(0, Math.floor((v * 1000) / size)));
  const hi = (v: number, size: number) => Math.min(999, Math.max(0, Math.ceil((v * 1000) / size) - 1));
  return [lo(x, width), lo(y, height), hi(x + w, width), hi(y + h, height)];
}

/** The centre of a box, rounded down (stays inside the box). */
export function boxCentre(box: Box): Point {
  return [Math.floor((box[0] + box[2]) / 2), Math.floor((box[1] + box[3]) / 2)];
}

/** `[x1,y1,x2,y2]` without spaces (short for the character-level tokenizer). */
export function formatBox(box: Box): string {
  return `[${box.join(",")}]`;
}

/** `[x,y]` without spaces. */
export function formatPoint(point: Point): string {
  return `[${point.join(",")}]`;
}

/** Parse `[a,b,…]` with exactly `n` integers; null otherwise. */
function parseInts(text: string, n: number): number[] | null {
  const m = /^\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]$/.exec(text.trim());
  if (!m) return null;
  const values = m[1]!.split(",").map((v) => Number(v.trim()));
  return values.length === n ? values : null;
}

/**
 * Parse a `[x1,y1,x2,y2]` box whose coordinates are integers in 0–999 with x1 ≤ x2 and y1 ≤ y2; null otherwise.
 * @example parseBox("[0,250,249,499]") // [0, 250, 249, 499]
 */
export function parseBox(text: string): Box | null {
  const v = parseInts(text, 4);
  if (!v || v.some((c) => c > 999)) return null;
  const [x1, y1, x2, y2] = v as [number, number, number, number];
  return x1 <= x2 && y1 <= y2 ? [x1, y1, x2, y2] : null;
}

/** Parse a `[x,y]` point with integers in 0–999; null otherwise. */
export function parsePoint(text: string): Point | null {
  const v = parseInts(text, 2);
  if (!v || v.some((c) => c > 999)) return null;
  return [v[0]!, v[1]!];
}

/** Intersection over union of two inclusive integer boxes. */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  if (iw <= 0 || ih <= 0) return 0;
  const area = (r: Box) => (r[2] - r[0] + 1) * (r[3] - r[1] + 1);
  const inter = iw * ih;
  return inter / (area(a) + area(b) - inter);
}

/** Whether a point lies inside an inclusive box. */
export function pointInBox(p: Point, box: Box): boolean {
  return p[0] >= box[0] && p[0] <= box[2] && p[1] >= box[1] && p[1] <= box[3];
}
