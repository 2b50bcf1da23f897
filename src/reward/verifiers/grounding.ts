/**
 * Grounding verifier: boxes `[x1, y1, x2, y2]` in GLM's 0–999 thousandths of the image, scored by IoU.
 * The bracket style varies in GLM output (`[]`, `[[]]`, `()`, `<>`, with or without spaces), so any is read.
 * Several gold boxes are matched one to one (optimal assignment, greedy past 8 boxes); the reward is the summed
 * IoU over max(#pred, #gold), so extra or missing boxes cost. Absent from the release (design.md).
 */
import type { Verifier } from "../types.ts";

/** A box `[x1, y1, x2, y2]`: top-left and bottom-right corners in 0–999. */
export type Box = readonly [number, number, number, number];

/** `parseBoxes` result: the boxes, or why the text is not a valid box list. */
export type ParsedBoxes = { ok: true; boxes: Box[] } | { ok: false; reason: string };

/** The largest coordinate: GLM writes integer thousandths 0–999 (AndroidWorld rejects 1000). */
export const MAX_COORD = 999;
/** An answer with more boxes than this is not a grounding answer (and would make matching slow). */
const MAX_BOXES = 64;
/** Optimal assignment by bitmask DP up to this many boxes on the larger side; greedy beyond. */
const EXACT_MATCH_LIMIT = 8;
/** A box counts as found at this IoU (the usual detection threshold). */
const CORRECT_IOU = 0.5;

const SPECIAL_TOKEN = /<\|[a-z_]+\|>/gi;
const INNER_GROUP = /[[(<【]([^[\]()<>【】]*)[\])>】]/g;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Read one bracket group's content as a box, or say why it is not one. */
function readBox(content: string): Box | string {
  const parts = content.split(/[\s,，;；]+/).filter(Boolean);
  if (parts.length !== 4) return `a box has ${parts.length} numbers, not 4`;
  if (!parts.every((p) => NUMBER.test(p))) return "a box coordinate is not a number";
  const [x1, y1, x2, y2] = parts.map(Number) as [number, number, number, number];
  if ([x1, y1, x2, y2].some((v) => v < 0 || v > MAX_COORD)) return `a coordinate is outside 0–${MAX_COORD}`;
  if (x1 > x2) return "a box has x1 > x2";
  if (y1 > y2) return "a box has y1 > y2";
  return [x1, y1, x2, y2];
}

/**
 * All boxes in a text: `[[x1,y1,x2,y2], …]`, `(x1, y1, x2, y2)`, `<x1 y1 x2 y2>`, or four bare numbers.
 * Invalid boxes (not 4 numbers, outside 0–999, x1 > x2 or y1 > y2) and numbers outside brackets make the whole
 * answer invalid: a partly valid list would let a model hedge.
 * @example parseBoxes("[[10, 20, 30, 40]]") // { ok: true, boxes: [[10, 20, 30, 40]] }
 */
export function parseBoxes(text: string): ParsedBoxes {
  const s = text.normalize("NFKC").replace(SPECIAL_TOKEN, " ");
  // Bracketed words ("(the red cup)") are labels, not boxes.
  const groups = [...s.matchAll(INNER_GROUP)].map((m) => m[1]!).filter((g) => /\d/.test(g));
  if (groups.length === 0) {
    // Four bare numbers: "10, 20, 30, 40".
    if (/^[\s\d.,，;；+-]+$/.test(s) && /\d/.test(s)) groups.push(s);
    else return { ok: false, reason: "no box found" };
  } else if (/\d/.test(s.replace(INNER_GROUP, " "))) {
    return { ok: false, reason: "numbers outside the box brackets" };
  }
  if (groups.length > MAX_BOXES) return { ok: false, reason: `more than ${MAX_BOXES} boxes` };
  const boxes: Box[] = [];
  for (const g of groups) {
    const box = readBox(g);
    if (typeof box === "string") return { ok: false, reason: box };
    boxes.push(box);
  }
  return { ok: true, boxes };
}

/**
 * Write boxes the way GLM does: `[[x1,y1,x2,y2],[…]]`. `parseBoxes(formatBoxes(b))` gives `b` back.
 * @example formatBoxes([[1, 2, 3, 4]]) // "[[1,2,3,4]]"
 */
export function formatBoxes(boxes: readonly Box[]): string {
  return `[${boxes.map((b) => `[${b.join(",")}]`).join(",")}]`;
}

/**
 * Intersection over union of two boxes (raw areas, no +1). Two zero-area boxes score 1 only when identical.
 * @example iou([0, 0, 10, 10], [5, 0, 15, 10]) // 1/3
 */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  if (union <= 0) return a.every((v, i) => v === b[i]) ? 1 : 0;
  return Math.min(1, Math.max(0, inter / union));
}

/** One matched pair: indices into pred and gold and their IoU. */
export type BoxPair = { pred: number; gold: number; iou: number };

/** Best one-to-one assignment by DP over subsets of the larger side (≤ 8 boxes: ≤ 256 × 8 steps). */
function exactAssignment(weights: number[][], rows: number, cols: number): [number, number][] {
  const size = 1 << cols;
  const best = new Float64Array(size).fill(-1);
  const from = new Int32Array(size).fill(-1);
  best[0] = 0;
  let bestFull = 0;
  let bestSum = -1;
  for (let mask = 0; mask < size; mask++) {
    if (best[mask]! < 0) continue;
    let row = 0;
    for (let m = mask; m; m &= m - 1) row++;
    if (row === rows) {
      if (best[mask]! > bestSum) [bestSum, bestFull] = [best[mask]!, mask];
      continue;
    }
    for (let col = 0; col < cols; col++) {
      if (mask & (1 << col)) continue;
      const next = mask | (1 << col);
      const sum = best[mask]! + weights[row]![col]!;
      if (sum > best[next]!) [best[next], from[next]] = [sum, col];
    }
  }
  const pairs: [number, number][] = [];
  for (let mask = bestFull, row = rows - 1; mask; row--) {
    const col = from[mask]!;
    pairs.push([row, col]);
    mask &= ~(1 << col);
  }
  return pairs;
}

/** Highest-IoU pairs first, each box used once. */
function greedyAssignment(weights: number[][], rows: number, cols: number): [number, number][] {
  const all: [number, number, number][] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) all.push([r, c, weights[r]![c]!]);
  all.sort((x, y) => y[2] - x[2]);
  const usedR = new Set<number>();
  const usedC = new Set<number>();
  const pairs: [number, number][] = [];
  for (const [r, c] of all) {
    if (usedR.has(r) || usedC.has(c)) continue;
    usedR.add(r);
    usedC.add(c);
    pairs.push([r, c]);
  }
  return pairs;
}

/**
 * Match predicted to gold boxes one to one, maximising the summed IoU (exact up to 8 boxes, greedy beyond).
 * @example matchBoxes([[0, 0, 10, 10]], [[0, 0, 10, 10], [20, 20, 30, 30]]) // [{ pred: 0, gold: 0, iou: 1 }]
 */
export function matchBoxes(pred: readonly Box[], gold: readonly Box[]): BoxPair[] {
  // Rows are the smaller side so the DP runs over subsets of the larger.
  const predRows = pred.length <= gold.length;
  const rows = predRows ? pred : gold;
  const cols = predRows ? gold : pred;
  if (rows.length === 0) return [];
  const weights = rows.map((r) => cols.map((c) => iou(r, c)));
  const pairs =
    cols.length <= EXACT_MATCH_LIMIT
      ? exactAssignment(weights, rows.length, cols.length)
      : greedyAssignment(weights, rows.length, cols.length);
  return pairs
    .map(([r, c]) =>
      predRows ? { pred: r, gold: c, iou: weights[r]![c]! } : { pred: c, gold: r, iou: weights[r]![c]! },
    )
    .sort((a, b) => a.gold - b.gold);
}

/**
 * Grounding verifier: mean IoU over max(#pred, #gold) after one-to-one matching; correct when the counts agree
 * and every gold box is matched at IoU ≥ 0.5. Invalid boxes score 0 with the reason.
 * @example verifyGrounding("[[0,0,10,10]]", "[[0, 0, 10, 10]]", {}).score // 1
 */
export const verifyGrounding: Verifier = (pred, gold) => {
  const g = parseBoxes(gold);
  if (!g.ok) return { score: 0, correct: false, reason: `gold: ${g.reason}` };
  const p = parseBoxes(pred);
  if (!p.ok) return { score: 0, correct: false, reason: p.reason };
  const pairs = matchBoxes(p.boxes, g.boxes);
  const denom = Math.max(p.boxes.length, g.boxes.length);
  const score = pairs.reduce((sum, pair) => sum + pair.iou, 0) / denom;
  const correct = p.boxes.length === g.boxes.length && pairs.every((pair) => pair.iou >= CORRECT_IOU);
  const counts =
    p.boxes.length === g.boxes.length ? "" : ` (${p.boxes.length} predicted, ${g.boxes.length} gold boxes)`;
  return { score, correct, reason: `mean IoU ${score.toFixed(4)}${counts}` };
};
