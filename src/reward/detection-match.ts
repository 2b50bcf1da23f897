/**
 * One-to-one matching of predicted to gold boxes for the detection rewards (`verifiers/detection.ts`).
 *
 * Optimal assignment (the Hungarian method, shortest augmenting paths with potentials, O(n²·m)), not greedy: V-Triune
 * and ROLL match greedily (highest IoU first, or per gold label first), which can pair a box with the wrong one of
 * two overlapping same-label objects and leave the other unmatched, so a right answer in a crowded scene loses reward
 * by the order of a loop. The boxes are few (at most `MAX_DETECTIONS` a side) and a label is only ever matched to
 * the same label, so each label's group is solved apart and the cost stays small.
 */

/** A box `[x1, y1, x2, y2]`: top-left and bottom-right corners in thousandths of the image (GLM's 0–999). */
export type Box = readonly [number, number, number, number];
/** One object of an answer: its box (pixel boxes converted to thousandths) and normalised label (null: none). */
export type Detection = { box: Box; label: string | null };
/** One matched pair: indices into pred and gold, and their IoU. */
export type DetPair = { pred: number; gold: number; iou: number };

/** A pair at exactly the threshold counts as found (COCO's `>=`); float noise must not drop it. */
const THRESHOLD_SLACK = 1e-9;

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

/**
 * The row → column assignment of greatest total weight (rows ≤ columns; every row gets a column, and a pair of weight
 * 0 is "not matched" to the caller). Hungarian method on cost = −weight, 1-indexed potentials `u`, `v`.
 * @example maxWeightAssignment([[1, 0], [1, 0.5]]) // [[0, 0], [1, 1]]
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): [number, number][] {
  const n = weights.length;
  const m = weights[0]?.length ?? 0;
  if (n === 0 || m === 0) return [];
  if (n > m) throw new Error(`maxWeightAssignment needs rows ≤ columns (${n} > ${m})`);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOf = new Int32Array(m + 1); // rowOf[j]: the row (1-based) holding column j; 0 = free
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = -weights[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOf[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const pairs: [number, number][] = [];
  for (let j = 1; j <= m; j++) if (rowOf[j]! !== 0) pairs.push([rowOf[j]! - 1, j - 1]);
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** Index lists of pred and gold objects per matching group (one group when labels are not compared). */
function groupsByLabel(
  pred: readonly Detection[],
  gold: readonly Detection[],
  compareLabels: boolean,
): { pred: number[]; gold: number[] }[] {
  const groups = new Map<string, { pred: number[]; gold: number[] }>();
  const groupOf = (label: string | null) => {
    const key = compareLabels ? label : "";
    // An unlabelled prediction where labels are compared matches nothing.
    if (key === null) return undefined;
    const g = groups.get(key) ?? { pred: [], gold: [] };
    groups.set(key, g);
    return g;
  };
  for (const [k, d] of gold.entries()) groupOf(d.label)?.gold.push(k);
  for (const [k, d] of pred.entries()) groupOf(d.label)?.pred.push(k);
  return [...groups.values()].filter((g) => g.pred.length > 0 && g.gold.length > 0);
}

/**
 * Match predicted to gold objects one to one, label to label (unless `compareLabels` is false), keeping only pairs
 * with IoU ≥ `threshold`. With a threshold, pairs are chosen to find the most objects first and the tightest boxes
 * second (weight 1 + IoU); with threshold 0 (the continuous "iou" reward), to maximise the summed IoU. Sorted by gold.
 * @example matchDetections([{ box: [0, 0, 10, 10], label: "a" }], [{ box: [0, 0, 10, 10], label: "a" }], true, 0.5)
 * // [{ pred: 0, gold: 0, iou: 1 }]
 */
export function matchDetections(
  pred: readonly Detection[],
  gold: readonly Detection[],
  compareLabels: boolean,
  threshold: number,
): DetPair[] {
  const pairs: DetPair[] = [];
  for (const group of groupsByLabel(pred, gold, compareLabels)) {
    const predRows = group.pred.length <= group.gold.length;
    const rows = predRows ? group.pred : group.gold;
    const cols = predRows ? group.gold : group.pred;
    const ious = rows.map((r) =>
      cols.map((c) => (predRows ? iou(pred[r]!.box, gold[c]!.box) : iou(pred[c]!.box, gold[r]!.box))),
    );
    const weights = ious.map((row) =>
      row.map((x) => {
        if (threshold <= 0) return x;
        return x >= threshold - THRESHOLD_SLACK && x > 0 ? 1 + x : 0;
      }),
    );
    for (const [r, c] of maxWeightAssignment(weights)) {
      if (weights[r]![c]! <= 0) continue;
      const p = predRows ? rows[r]! : cols[c]!;
      const g = predRows ? cols[c]! : rows[r]!;
      pairs.push({ pred: p, gold: g, iou: ious[r]![c]! });
    }
  }
  return pairs.sort((a, b) => a.gold - b.gold);
}
