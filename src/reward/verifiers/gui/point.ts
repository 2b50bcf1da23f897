/**
 * Screen targets of GUI actions and how close a predicted target is to the labelled one.
 * Coordinates are integer thousandths of the screen, 0–999 (reward-spec-official.md §2.4); anything else
 * (1000, negatives, fractions) is invalid and the caller scores it 0.
 */

/** A click point. */
export type Point = { kind: "point"; x: number; y: number };
/** An axis-aligned box, corners inclusive: x1 ≤ x2, y1 ≤ y2. */
export type Box = { kind: "box"; x1: number; y1: number; x2: number; y2: number };
/** Where an action lands: a point, or a box meaning "anywhere inside". */
export type Target = Point | Box;

/** Largest valid coordinate: thousandths are 0–999, so 1000 is already off-screen. */
export const MAX_COORD = 999;

/** Inside this distance the OSWorld score falls slowly (1.0 → 0.8); past it, steeply. */
const NEAR_DISTANCE = 20;
/** Distance at which the OSWorld score reaches 0. */
const FAR_DISTANCE = 50;

/** True for an integer in 0..999. */
export function isValidCoord(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_COORD;
}

/** True when every coordinate is valid and a box's corners are ordered. */
export function isValidTarget(t: Target): boolean {
  if (t.kind === "point") return isValidCoord(t.x) && isValidCoord(t.y);
  return [t.x1, t.y1, t.x2, t.y2].every(isValidCoord) && t.x1 <= t.x2 && t.y1 <= t.y2;
}

/** Build a target from 2 numbers (a point) or 4 numbers (a box); other counts give null. Validity is not checked. */
export function targetFromNumbers(nums: readonly number[]): Target | null {
  const [a, b, c, d] = nums;
  if (nums.length === 2 && a !== undefined && b !== undefined) return { kind: "point", x: a, y: b };
  if (nums.length === 4 && a !== undefined && b !== undefined && c !== undefined && d !== undefined) {
    return { kind: "box", x1: a, y1: b, x2: c, y2: d };
  }
  return null;
}

const NUMBER_LIST = /^-?\d{1,12}(?:\s*,\s*-?\d{1,12})*$/;

/**
 * Parse coordinate text: `[x, y]`, `(x, y)`, `[x1, y1, x2, y2]`, `[[x1, y1, x2, y2]]` or bare `x, y`.
 * Only integers are read (a fraction makes the whole text unreadable). Returns null when it is not 2 or 4
 * integers; the result may still be invalid (out of range), which `isValidTarget` tells.
 * @example parseTarget("[100, 200]") // { kind: "point", x: 100, y: 200 }
 */
export function parseTarget(text: string): Target | null {
  let s = text.trim();
  // Peel at most two bracket layers so `[[…]]` (AndroidWorld, WebVoyager boxes) reads like `[…]`.
  for (let layer = 0; layer < 2; layer++) {
    const open = s[0];
    const close = s[s.length - 1];
    if ((open === "[" && close === "]") || (open === "(" && close === ")")) s = s.slice(1, -1).trim();
    else break;
  }
  if (!NUMBER_LIST.test(s)) return null;
  return targetFromNumbers(s.split(",").map((part) => Number(part.trim())));
}

/**
 * The OSWorld distance score for a Euclidean distance d in thousandths:
 * d ≤ 20 → 1 − 0.2·d/20 (1.0 down to 0.8); d > 20 → max(0, 1 − d/50). The curve is discontinuous at 20
 * (0.8 → 0.6) by design of the released reward; we keep it so the golden values hold.
 * @example distanceScore(30) // 0.4
 */
export function distanceScore(d: number): number {
  if (!Number.isFinite(d) || d < 0) return 0;
  if (d <= NEAR_DISTANCE) return 1 - (0.2 * d) / NEAR_DISTANCE;
  return Math.max(0, 1 - d / FAR_DISTANCE);
}

/** Euclidean distance between two points. */
export function pointDistance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** True when the point lies inside the box, edges included (the ScreenSpot convention). */
export function pointInBox(p: Point, box: Box): boolean {
  return p.x >= box.x1 && p.x <= box.x2 && p.y >= box.y1 && p.y <= box.y2;
}

/** Distance from a point to the nearest point of a box (0 inside or on an edge). */
export function distanceToBox(p: Point, box: Box): number {
  const dx = Math.max(box.x1 - p.x, 0, p.x - box.x2);
  const dy = Math.max(box.y1 - p.y, 0, p.y - box.y2);
  return Math.hypot(dx, dy);
}

/** Centre of a box, as a point (not rounded). */
export function boxCentre(box: Box): Point {
  return { kind: "point", x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 };
}

/**
 * Intersection over union with raw integer areas (no +1), as AndroidWorld's reward computes it.
 * A zero-area union (two identical degenerate boxes) gives 0.
 */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.max(Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), 0);
  const ih = Math.max(Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1), 0);
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** How a predicted target compared with the labelled one. */
export type TargetMatch = {
  score: number;
  /** Whether the click counts as landing on the target (see `matchTarget`). */
  hit: boolean;
  how: "distance" | "in_box" | "box_edge_distance" | "iou" | "box_centre_distance" | "invalid";
};

/**
 * Score a predicted target against the labelled one (both must be valid, else score 0):
 * - point vs point: `distanceScore` of their distance; a hit when the score is ≥ 0.5 (within 25 units).
 * - point vs box (point-in-box, absent from the release): inside or on an edge → 1 and a hit; outside →
 *   `distanceScore` of the distance to the box's nearest edge point, which shapes the reward but is never a hit.
 * - box vs box: IoU (AndroidWorld's rule); a hit at IoU ≥ 0.5, the usual grounding threshold.
 * - box vs point: the predicted box's centre is scored as a point, so a huge box that "contains" the target
 *   earns nothing by hedging.
 * @example matchTarget({ kind: "point", x: 5, y: 5 }, { kind: "box", x1: 0, y1: 0, x2: 9, y2: 9 }).score // 1
 */
export function matchTarget(pred: Target, gold: Target): TargetMatch {
  if (!isValidTarget(pred) || !isValidTarget(gold)) return { score: 0, hit: false, how: "invalid" };
  if (pred.kind === "point" && gold.kind === "point") {
    const score = distanceScore(pointDistance(pred, gold));
    return { score, hit: score >= 0.5, how: "distance" };
  }
  if (pred.kind === "point" && gold.kind === "box") {
    if (pointInBox(pred, gold)) return { score: 1, hit: true, how: "in_box" };
    return { score: distanceScore(distanceToBox(pred, gold)), hit: false, how: "box_edge_distance" };
  }
  if (pred.kind === "box" && gold.kind === "box") {
    const score = boxIou(pred, gold);
    return { score, hit: score >= 0.5, how: "iou" };
  }
  if (pred.kind === "box" && gold.kind === "point") {
    const score = distanceScore(pointDistance(boxCentre(pred), gold));
    return { score, hit: score >= 0.5, how: "box_centre_distance" };
  }
  return { score: 0, hit: false, how: "invalid" };
}

/** Describe a target for reasons: `(x, y)` or `[x1, y1, x2, y2]`. */
export function formatTarget(t: Target): string {
  return t.kind === "point" ? `(${t.x}, ${t.y})` : `[${t.x1}, ${t.y1}, ${t.x2}, ${t.y2}]`;
}
