/**
 * Grounding boxes for the eval harness: reading predicted boxes out of an answer, GLM's 0–999 thousandths → pixels,
 * and lmms-eval's IoU / Acc@t / centre rules (`lmms_eval/tasks/refcoco_grounding/utils.py`), reimplemented.
 *
 * Reading order: GLM's own bracket styles first (the reward system's `parseBoxes`: `[[x1,y1,x2,y2]]`, `(…)`, `<…>`,
 * `【…】`, full-width digits and commas), then lmms-eval's parser as written: JSON (a fenced block, the whole
 * text, or the span from the first `[`/`{` to the last `]`/`}`; `bbox_2d` / `bbox` / … keys or bare 4-number lists,
 * found at any depth), and last its 4-number regex over the whole text.
 * Known gaps against Python: its regex `\d` matches non-ASCII digits and `json.loads` reads `NaN` / `Infinity`;
 * here those fall through to the regex or are missed. No GLM output relies on either.
 */
import { parseBoxes } from "../../reward/verifiers/grounding.ts";
import { pyParseFloat } from "../python/numbers.ts";

/** A box `[x1, y1, x2, y2]` (corners), in whatever unit the caller says: thousandths or pixels. */
export type XyxyBox = [number, number, number, number];

/** lmms-eval's `_extract_bbox_from_dict` keys, in its order. */
const BOX_KEYS = ["bbox_2d", "bbox", "box", "coordinates", "coord", "location", "position"] as const;

const FENCED_JSON = /```(?:json)?\s*([\s\S]*?)\s*```/i;
const NUM = String.raw`(-?\d+(?:\.\d+)?)`;
const SEP = String.raw`\s*[,\s]\s*`;
/** lmms-eval's `_BBOX_REGEX`: four numbers split by a comma or whitespace, brackets optional. */
const FOUR_NUMBERS = new RegExp(String.raw`\[?\s*${NUM}${SEP}${NUM}${SEP}${NUM}${SEP}${NUM}\s*\]?`, "g");

/**
 * Python's `float(v)` for a JSON value, or null where Python raises (None, lists, objects, bad strings).
 * `True`/`False` are 1/0: Python's bool is an int. Strings go through `pyParseFloat` (whitespace, `_`, inf/nan).
 * @example pyFloat(" 12.5 ") // 12.5
 */
export function pyFloat(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return typeof v === "string" ? pyParseFloat(v) : null;
}

/** Python's `isinstance(v, (int, float))` for a JSON value (bools included). */
const isPyNumber = (v: unknown): v is number | boolean => typeof v === "number" || typeof v === "boolean";

/** lmms-eval `_extract_bbox_from_dict`: the first known key holding a 4-list whose items all convert. */
function boxFromDict(obj: Record<string, unknown>): XyxyBox | null {
  for (const key of BOX_KEYS) {
    const value = obj[key];
    if (!Object.hasOwn(obj, key) || !Array.isArray(value) || value.length !== 4) continue;
    const nums = value.map(pyFloat);
    if (nums.every((n): n is number => n !== null)) return nums as XyxyBox;
  }
  return null;
}

/** lmms-eval `_bbox_list_from_json`: every box in a parsed JSON value, depth first. */
function boxesFromJson(data: unknown): XyxyBox[] {
  if (Array.isArray(data)) {
    if (data.length === 4 && data.every(isPyNumber)) return [data.map(Number) as XyxyBox];
    return data.flatMap(boxesFromJson);
  }
  if (data !== null && typeof data === "object") {
    const box = boxFromDict(data as Record<string, unknown>);
    return box ? [box] : Object.values(data).flatMap(boxesFromJson);
  }
  return [];
}

const tryJson = (text: string): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
};

/** lmms-eval `_try_parse_json`: a fenced block, the whole text, then the outermost `[…]` and `{…}` spans. */
function parseJsonLoosely(raw: string): unknown {
  const text = raw.trim();
  if (text === "") return null;
  const fenced = FENCED_JSON.exec(text);
  for (const candidate of fenced ? [fenced[1]!, text] : [text]) {
    const parsed = tryJson(candidate);
    if (parsed.ok) return parsed.value;
  }
  for (const [open, close] of [
    ["[", "]"],
    ["{", "}"],
  ] as const) {
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start === -1 || end <= start) continue;
    const parsed = tryJson(text.slice(start, end + 1));
    if (parsed.ok) return parsed.value;
  }
  return null;
}

/**
 * lmms-eval's `_parse_pred_boxes`, as written: boxes from JSON, else every 4-number run the regex finds.
 * @example officialBoxes('[{"bbox_2d": [1, 2, 3, 4], "label": "dog"}]') // [[1, 2, 3, 4]]
 */
export function officialBoxes(text: string): XyxyBox[] {
  if (!text) return [];
  const fromJson = boxesFromJson(parseJsonLoosely(text));
  if (fromJson.length > 0) return fromJson;
  return [...text.matchAll(FOUR_NUMBERS)].map((m) => [1, 2, 3, 4].map((i) => Number(m[i])) as XyxyBox);
}

/**
 * Every predicted box in an answer: GLM's bracket styles when the whole answer is a valid GLM box list, else
 * lmms-eval's parser (`officialBoxes`). Coordinates come back as written (GLM: thousandths).
 * @example answerBoxes("[[100, 200, 300, 400]]") // [[100, 200, 300, 400]]
 */
export function answerBoxes(answer: string): XyxyBox[] {
  const glm = parseBoxes(answer);
  if (glm.ok && glm.boxes.length > 0) return glm.boxes.map((b) => [...b] as XyxyBox);
  return officialBoxes(answer);
}

/**
 * A box in GLM's thousandths of the image → pixels (`v / 1000 · size`, the order lmms-eval's
 * `_scale_pred_to_pixel` computes in, so the floats agree).
 * @example thousandthsToPixels([500, 0, 1000, 250], 640, 480) // [320, 0, 640, 120]
 */
export function thousandthsToPixels(box: XyxyBox, width: number, height: number): XyxyBox {
  return [
    (box[0] / 1000) * width,
    (box[1] / 1000) * height,
    (box[2] / 1000) * width,
    (box[3] / 1000) * height,
  ];
}

/** `[x, y, w, h]` → `[x1, y1, x2, y2]` (COCO boxes). */
export function xywhToXyxy([x, y, w, h]: readonly [number, number, number, number]): XyxyBox {
  return [x, y, x + w, y + h];
}

/**
 * lmms-eval's `_compute_iou`: areas of inverted boxes count as 0, and a zero union gives 0 (the reward system's
 * `iou` differs there: it scores two identical points 1, so it is not reused here).
 * @example boxIou([0, 0, 10, 10], [5, 0, 15, 10]) // 1/3
 */
export function boxIou(a: XyxyBox, b: XyxyBox): number {
  const inter =
    Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) *
    Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const areaA = Math.max(0, a[2] - a[0]) * Math.max(0, a[3] - a[1]);
  const areaB = Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
  const union = areaA + areaB - inter;
  return union <= 0 ? 0 : inter / union;
}

/**
 * lmms-eval's `_compute_center_accuracy`: the predicted box's centre lies in the gold box, edges included.
 * @example centreInBox([0, 0, 10, 10], [8, 8, 12, 12]) // true (centre (10, 10) is on the corner)
 */
export function centreInBox(gold: XyxyBox, pred: XyxyBox): boolean {
  const cx = (pred[0] + pred[2]) / 2;
  const cy = (pred[1] + pred[3]) / 2;
  return gold[0] <= cx && cx <= gold[2] && gold[1] <= cy && cy <= gold[3];
}

/**
 * lmms-eval's `_pick_best_box`: the index of the candidate with the highest IoU against the gold box (the first on
 * ties), or -1 when there is none.
 */
export function bestBoxIndex(candidates: readonly XyxyBox[], gold: XyxyBox): number {
  let best = -1;
  let bestIou = -1;
  for (const [i, box] of candidates.entries()) {
    const value = boxIou(box, gold);
    if (value > bestIou) [best, bestIou] = [i, value];
  }
  return best;
}

/** A box as text that reads back exactly (`String(number)` round-trips): `[x1,y1,x2,y2]`. */
export const formatBox = (box: XyxyBox): string => `[${box.join(",")}]`;

/** Reads `formatBox` output back; null for anything else. */
export function readFormattedBox(text: string | null): XyxyBox | null {
  const m = text?.match(/^\[([^,\]]+),([^,\]]+),([^,\]]+),([^,\]]+)\]$/);
  if (!m) return null;
  const nums = m.slice(1).map(Number);
  return nums.every((n) => !Number.isNaN(n)) ? (nums as XyxyBox) : null;
}
