/**
 * Grounding verifier: boxes `[x1, y1, x2, y2]` in GLM's 0–999 thousandths of the image, scored by IoU.
 * The bracket style varies in GLM output (`[]`, `[[]]`, `()`, `<>`, with or without spaces), so any is read.
 * Several gold boxes are matched one to one (optimal assignment); the reward is the summed IoU over
 * max(#pred, #gold), so extra or missing boxes cost. Absent from the release (design.md).
 * Detection answers (labelled JSON objects, pixel frames, IoU thresholds) go to `detection.ts`.
 */
import { type Box, matchDetections } from "../detection-match.ts";
import { looksLikeDetectionJson, parseBoxes } from "../detection-parse.ts";
import type { Verifier, VerifyContext } from "../types.ts";
import { verifyDetection } from "./detection.ts";

export { type Box, iou } from "../detection-match.ts";
export { MAX_COORD, type ParsedBoxes, parseBoxes } from "../detection-parse.ts";

/** A box counts as found at this IoU (the usual detection threshold). */
const CORRECT_IOU = 0.5;

/**
 * Write boxes the way GLM does: `[[x1,y1,x2,y2],[…]]`. `parseBoxes(formatBoxes(b))` gives `b` back.
 * @example formatBoxes([[1, 2, 3, 4]]) // "[[1,2,3,4]]"
 */
export function formatBoxes(boxes: readonly Box[]): string {
  return `[${boxes.map((b) => `[${b.join(",")}]`).join(",")}]`;
}

/** One matched pair: indices into pred and gold and their IoU. */
export type BoxPair = { pred: number; gold: number; iou: number };

/**
 * Match predicted to gold boxes one to one, maximising the summed IoU (optimal assignment: `detection-match.ts`);
 * boxes that overlap nothing stay unpaired.
 * @example matchBoxes([[0, 0, 10, 10]], [[0, 0, 10, 10], [20, 20, 30, 30]]) // [{ pred: 0, gold: 0, iou: 1 }]
 */
export function matchBoxes(pred: readonly Box[], gold: readonly Box[]): BoxPair[] {
  const unlabelled = (boxes: readonly Box[]) => boxes.map((box) => ({ box, label: null }));
  return matchDetections(unlabelled(pred), unlabelled(gold), false, 0);
}

/** Whether an item asks for the detection rewards (a frame, a reward mode or an IoU threshold of its own). */
function hasBoxOptions(ctx: VerifyContext): boolean {
  return [ctx.coords, ctx.goldCoords, ctx.boxReward, ctx.iouThreshold].some((v) => v !== undefined);
}

/**
 * Grounding verifier: mean IoU over max(#pred, #gold) after one-to-one matching; correct when the counts agree
 * and every gold box is matched at IoU ≥ 0.5. Invalid boxes score 0 with the reason.
 * @example verifyGrounding("[[0,0,10,10]]", "[[0, 0, 10, 10]]", {}).score // 1
 */
export const verifyGrounding: Verifier = (pred, gold, ctx) => {
  // Labels, pixel frames, thresholds: the detection rewards. Plain 0–999 boxes keep this rule.
  if (hasBoxOptions(ctx) || looksLikeDetectionJson(gold) || looksLikeDetectionJson(pred)) {
    return verifyDetection(pred, gold, ctx);
  }
  const g = parseBoxes(gold);
  if (!g.ok) return { score: 0, correct: false, reason: `gold: ${g.reason}` };
  const p = parseBoxes(pred);
  if (!p.ok) return { score: 0, correct: false, reason: p.reason };
  const pairs = matchBoxes(p.boxes, g.boxes);
  const denom = Math.max(p.boxes.length, g.boxes.length);
  const score = pairs.reduce((sum, pair) => sum + pair.iou, 0) / denom;
  const found = pairs.filter((pair) => pair.iou >= CORRECT_IOU).length;
  const correct = p.boxes.length === g.boxes.length && found === g.boxes.length;
  const counts =
    p.boxes.length === g.boxes.length ? "" : ` (${p.boxes.length} predicted, ${g.boxes.length} gold boxes)`;
  return { score, correct, reason: `mean IoU ${score.toFixed(4)}${counts}` };
};
