/**
 * ScreenSpot's click rule (njucckevin/SeeClick `pretrain/screenspot_test.py` with `process_utils.py`; the same
 * in-box test as ScreenSpot-Pro's `eval_screenspot_pro.py` `eval_sample_positive_gt`), reimplemented:
 * - an answer containing `box` is read as Qwen's `<box>(x1,y1),(x2,y2)</box>`: the first box's centre, / 1000;
 * - otherwise every number in it (`-?\d+\.?\d*`): two are the point, four a box whose centre is the point, any
 *   other count is `wrong_format` (SeeClick's bare `except`);
 * - the point is right iff it lies in the gold box, edges included, both as fractions of the image.
 * SeeClick's own model writes fractions (0–1), so SeeClick uses its numbers as they are; GLM writes thousandths
 * (0–999), so here they are divided by 1000, as SeeClick already does for Qwen's boxes.
 */
import { pointInBox } from "../../reward/verifiers/gui/point.ts";
import type { XyxyBox } from "./boxes.ts";

/** A click point as fractions of the image width and height. */
export type ClickPoint = { x: number; y: number };

const QWEN_BOX = /<box>\((\d+,\d+)\),\((\d+,\d+)\)<\/box>/g;
const NUMBER = /-?\d+\.?\d*/g;

/** SeeClick's `extract_bbox` then the centre of its first two corners, / 1000; null where it would raise. */
function qwenBoxCentre(answer: string): ClickPoint | null {
  const corners = [...answer.matchAll(QWEN_BOX)]
    .flatMap((m) => [m[1]!, m[2]!])
    .map((c) => c.split(",").map(Number));
  const [a, b] = corners;
  if (!a || !b) return null;
  return { x: (a[0]! + b[0]!) / 2 / 1000, y: (a[1]! + b[1]!) / 2 / 1000 };
}

/**
 * The click point an answer gives, as fractions of the image, or null for SeeClick's `wrong_format`.
 * @example clickPoint("[[100,200,300,400]]") // { x: 0.2, y: 0.3 }
 */
export function clickPoint(answer: string): ClickPoint | null {
  if (answer.includes("box")) return qwenBoxCentre(answer);
  const nums = (answer.match(NUMBER) ?? []).map(Number);
  if (nums.length === 2) return { x: nums[0]! / 1000, y: nums[1]! / 1000 };
  if (nums.length === 4) return { x: (nums[0]! + nums[2]!) / 2 / 1000, y: (nums[1]! + nums[3]!) / 2 / 1000 };
  return null;
}

/**
 * The official in-box test on fractions of the image: `x1 ≤ x ≤ x2` and `y1 ≤ y ≤ y2` (edges count).
 * @example clickHits({ x: 0.5, y: 0.25 }, [0.5, 0, 1, 0.25]) // true (on the corner)
 */
export function clickHits(point: ClickPoint, gold: XyxyBox): boolean {
  return pointInBox(
    { kind: "point", ...point },
    { kind: "box", x1: gold[0], y1: gold[1], x2: gold[2], y2: gold[3] },
  );
}

/** A point as extracted text, exact on read-back: `(x,y)`. */
export const formatPoint = (p: ClickPoint): string => `(${p.x},${p.y})`;
