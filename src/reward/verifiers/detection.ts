/**
 * Detection and multi-object grounding rewards (glmv issue 19): several labelled boxes per answer, matched one to
 * one label to label, scored by IoU. The grounding verifier sends labelled JSON answers and items with box options
 * here; plain 0–999 box lists without options keep its own rule (the "iou" reward below, unlabelled).
 *
 * What was followed, and where a reward's interest differs:
 * - GLM-4.5V/4.1V-Thinking §5.2 (arXiv 2507.01006): grounding is rewarded by IoU of boxes in 0–999 thousandths.
 *   GLM-V's grounding skill (zai-org/GLM-V `skills/glmv-grounding/scripts/glm_grounding_cli.py`) shows the
 *   4.6V-era outputs: plain coordinate lists, or JSON objects with `label` and `bbox_2d` (or `bbox_3d`).
 * - ROLL's `DetectionRewardWorker` (alibaba/ROLL `docs_roll/docs/User Guides/Pipeline/vl_rlvr_pipeline_start.md`),
 *   after V-Triune (MiniMax-AI/One-RL-to-See-Them-All `reward_server/verify.py`, `utils/det_helper.py`): IoU
 *   scores at thresholds 0.5…0.99 averaged ("average") or a "dynamic" threshold rising with the training step
 *   (0.85 → 0.95 → 0.99), labels compared lower-cased, and a completeness term 1 − (FN/#gold + FP/#pred)/2 mixed
 *   in with weight 0.3. Kept: the thresholds, averaging over them (COCO's 0.50:0.05:0.95 here), the per-run
 *   schedule (`detection-schedule.ts`), case-insensitive labels. Changed, each with a test:
 *   - completeness is the F1 of found objects, 2·TP/(#pred + #gold), and multiplies the IoU of the found boxes
 *     (panoptic quality, Kirillov et al. 2019): V-Triune's FP/#pred is at most 1, so a carpet of hundreds of boxes
 *     that covers every object keeps 0.7·1 + 0.3·0.5 = 0.85 there; here it goes to 0;
 *   - duplicate boxes are extra boxes (V-Triune drops exact duplicates, so they cost nothing);
 *   - optimal one-to-one matching instead of greedy (`detection-match.ts` says why);
 *   - no mAP term: answers carry no confidences, so AP over one ranking is a function of the same matches.
 */
import { type Detection, matchDetections } from "../detection-match.ts";
import { type BoxFrame, readDetections } from "../detection-parse.ts";
import type { BoxReward, Verifier, VerifyContext, VerifyResult } from "../types.ts";

/** COCO's IoU thresholds 0.50:0.05:0.95 (the "coco" reward averages over them). */
export const COCO_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95] as const;
/** The threshold at which an object counts as found when the item and the run set none. */
export const DEFAULT_IOU_THRESHOLD = 0.5;

/** One threshold's outcome: the reward there, and how many gold objects were found. */
export type ThresholdScore = { threshold: number; score: number; found: number };

/**
 * Whether labels take part in matching, or why the gold is unusable. Not when the gold names no labels, nor when
 * the answer names none and the gold has one label only ("find every dog" answered with plain boxes); otherwise
 * an unlabelled predicted object matches nothing (dropping labels must not dodge a wrong one).
 */
function labelsCompared(pred: readonly Detection[], gold: readonly Detection[]): boolean | string {
  const goldLabels = new Set(gold.map((d) => d.label));
  if (goldLabels.has(null) && goldLabels.size > 1) return "gold: some objects have a label and some do not";
  if (goldLabels.has(null) || goldLabels.size === 0) return false;
  return !(goldLabels.size === 1 && pred.every((d) => d.label === null));
}

/**
 * The reward at one IoU threshold: the IoU of the objects found there (one to one, label to label, IoU ≥ t) times
 * the completeness 2·found/(#pred + #gold), i.e. 2·ΣIoU/(#pred + #gold). Missed and extra objects cost alike.
 * @example scoreAtThreshold([{ box: [0, 0, 10, 10], label: null }], [{ box: [0, 0, 10, 10], label: null }], false, 0.5)
 * // { threshold: 0.5, score: 1, found: 1 }
 */
export function scoreAtThreshold(
  pred: readonly Detection[],
  gold: readonly Detection[],
  compareLabels: boolean,
  threshold: number,
): ThresholdScore {
  const total = pred.length + gold.length;
  if (total === 0) return { threshold, score: 1, found: 0 };
  const pairs = matchDetections(pred, gold, compareLabels, threshold);
  const iouSum = pairs.reduce((s, p) => s + p.iou, 0);
  return { threshold, score: (2 * iouSum) / total, found: pairs.length };
}

/**
 * The continuous reward: summed IoU of the best one-to-one matching over max(#pred, #gold) (the grounding rule).
 * @example scoreMeanIou([{ box: [5, 0, 15, 10], label: null }], [{ box: [0, 0, 10, 10], label: null }], false)
 * // 1/3
 */
export function scoreMeanIou(pred: readonly Detection[], gold: readonly Detection[], compareLabels: boolean) {
  const denom = Math.max(pred.length, gold.length);
  if (denom === 0) return 1;
  return matchDetections(pred, gold, compareLabels, 0).reduce((s, p) => s + p.iou, 0) / denom;
}

/** The reward mode of an item: its own, else "threshold" when a threshold is set, else "iou". */
function rewardMode(ctx: VerifyContext): BoxReward {
  return ctx.boxReward ?? (ctx.iouThreshold !== undefined ? "threshold" : "iou");
}

/** The frames of the response's and the gold's boxes. */
function frames(ctx: VerifyContext): { pred: BoxFrame; gold: BoxFrame } {
  const coords = ctx.coords ?? "0-999";
  return {
    pred: { coords, imageSize: ctx.imageSize },
    gold: { coords: ctx.goldCoords ?? coords, imageSize: ctx.imageSize },
  };
}

/** "3 of 4 gold objects found at IoU ≥ 0.5, 2 extra" */
function countsText(found: number, nPred: number, nGold: number, threshold: number): string {
  const extra = nPred - found;
  return `${found} of ${nGold} gold objects found at IoU ≥ ${threshold}${extra > 0 ? `, ${extra} extra` : ""}`;
}

/**
 * Score a detection answer against the gold (`ctx` carries the item's frames, reward mode and IoU threshold):
 * - "iou": summed IoU of the best one-to-one matching over max(#pred, #gold);
 * - "threshold": `scoreAtThreshold` at the item's (or the run's) threshold, default 0.5;
 * - "coco": the mean of `scoreAtThreshold` over 0.50:0.05:0.95.
 * Correct when every gold object is found at the threshold and nothing else is listed. A malformed answer, a point
 * answer or a 3-D box scores 0 with the reason.
 * @example verifyDetection('[{"label": "cat", "bbox_2d": [0, 0, 10, 10]}]', '[{"label": "Cat", "bbox_2d": [0, 0, 10, 10]}]', {}).score
 * // 1
 */
export const verifyDetection: Verifier = (pred, gold, ctx): VerifyResult => {
  const frame = frames(ctx);
  const g = readDetections(gold, frame.gold);
  if (!g.ok) return { score: 0, correct: false, reason: `gold: ${g.reason}` };
  const p = readDetections(pred, frame.pred);
  if (!p.ok) return { score: 0, correct: false, reason: p.reason };
  const compare = labelsCompared(p.detections, g.detections);
  if (typeof compare === "string") return { score: 0, correct: false, reason: compare };
  const threshold = ctx.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
  const mode = rewardMode(ctx);
  const atThreshold = scoreAtThreshold(p.detections, g.detections, compare, threshold);
  const nPred = p.detections.length;
  const nGold = g.detections.length;
  const correct = atThreshold.found === nGold && nPred === nGold;
  let score: number;
  if (mode === "threshold") score = atThreshold.score;
  else if (mode === "iou") score = scoreMeanIou(p.detections, g.detections, compare);
  else {
    const scores = COCO_THRESHOLDS.map((t) => scoreAtThreshold(p.detections, g.detections, compare, t).score);
    score = scores.reduce((s, x) => s + x, 0) / scores.length;
  }
  const what = mode === "threshold" ? `IoU@${threshold}` : mode === "coco" ? "IoU@0.5:0.95" : "mean IoU";
  const labels = compare ? "" : ", labels not compared";
  return {
    score,
    correct,
    reason: `${what} ${score.toFixed(4)}: ${countsText(atThreshold.found, nPred, nGold, threshold)}${labels}`,
  };
};
