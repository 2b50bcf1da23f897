/**
 * Reading a detection answer (`verifiers/detection.ts`): GLM-4.5V/4.6V and Qwen-style JSON
 * `[{"label": "cat", "bbox_2d": [x1, y1, x2, y2]}, …]` (also Python-literal quotes as in ROLL / V-Triune data, one
 * object without the list, inside box tokens or a ```json fence, or with the box tokens around each `bbox_2d`), or
 * GLM's plain box lists `[[x1,y1,x2,y2], …]` (no labels). Boxes come back in thousandths of the image: 0–999 boxes
 * as written, pixel boxes divided by the image size (GLM's rule, data/tasks/coords.ts).
 *
 * A malformed answer is refused whole, with the reason (a partly read list would let a model hedge); point answers
 * (`point_2d`, `[x, y]`) and 3-D boxes (`bbox_3d`, GLM-V's grounding skill emits them) are refused as unsupported:
 * a point has no area to compare and a 3-D box needs the camera.
 */
import type { Box, Detection } from "./detection-match.ts";
import type { BoxCoords, ImageSize } from "./types.ts";
import { type Literal, parseLiteral } from "./verifiers/gui/androidworld.ts";

/** The frame a side's boxes are written in. */
export type BoxFrame = { coords: BoxCoords; imageSize?: ImageSize | undefined };
/** `parseBoxes` result: the boxes, or why the text is not a valid box list. */
export type ParsedBoxes = { ok: true; boxes: Box[] } | { ok: false; reason: string };
/** `readDetections` result: the objects (boxes in thousandths), or why the text is not a detection answer. */
export type ParsedDetections = { ok: true; detections: Detection[] } | { ok: false; reason: string };

/** The largest coordinate: GLM writes integer thousandths 0–999 (AndroidWorld rejects 1000). */
export const MAX_COORD = 999;
/** A plain box list with more boxes than this is not a grounding answer (and would make matching slow). */
const MAX_BOXES = 64;
/** More objects than this is not a detection answer (COCO keeps at most 100 detections per image). */
export const MAX_DETECTIONS = 100;
/**
 * A detection answer longer than this is refused before parsing (100 objects with long labels fit). The format
 * gate lets a grounding item's box be this long (its default cap, 1000 characters, holds about 17 objects).
 */
export const MAX_DETECTION_CHARS = 20_000;

const SPECIAL_TOKEN = /<\|[a-z_]+\|>/gi;
const INNER_GROUP = /[[(<【]([^[\]()<>【】]*)[\])>】]/g;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const FENCE = /```[a-zA-Z]*\s*([\s\S]*?)```/g;
const POINT_KEYS = ["point_2d", "point", "points"];

function fail(reason: string): ParsedDetections {
  return { ok: false, reason };
}

/** The largest x and y a plain box may have (0–999 unless the box is in pixels). */
export type BoxLimits = { maxX?: number | undefined; maxY?: number | undefined };

/** Read one bracket group's content as a box, or say why it is not one. */
function readBox(content: string, maxX: number, maxY: number): Box | string {
  const parts = content.split(/[\s,，;；]+/).filter(Boolean);
  if (parts.length === 2 && parts.every((p) => NUMBER.test(p))) {
    return "unsupported: a point [x, y] is not a box (point answers are not scored)";
  }
  if (parts.length !== 4) return `a box has ${parts.length} numbers, not 4`;
  if (!parts.every((p) => NUMBER.test(p))) return "a box coordinate is not a number";
  const [x1, y1, x2, y2] = parts.map(Number) as [number, number, number, number];
  if ([x1, x2].some((v) => v < 0 || v > maxX) || [y1, y2].some((v) => v < 0 || v > maxY)) {
    return maxX === MAX_COORD && maxY === MAX_COORD
      ? `a coordinate is outside 0–${MAX_COORD}`
      : `a coordinate is outside the ${maxX}×${maxY} image`;
  }
  if (x1 > x2) return "a box has x1 > x2";
  if (y1 > y2) return "a box has y1 > y2";
  return [x1, y1, x2, y2];
}

/**
 * All boxes in a text: `[[x1,y1,x2,y2], …]`, `(x1, y1, x2, y2)`, `<x1 y1 x2 y2>`, or four bare numbers, with
 * coordinates up to `limits` (default 0–999). Invalid boxes (not 4 numbers, outside the limits, x1 > x2 or
 * y1 > y2) and numbers outside brackets make the whole answer invalid: a partly valid list would let a model hedge.
 * @example parseBoxes("[[10, 20, 30, 40]]") // { ok: true, boxes: [[10, 20, 30, 40]] }
 */
export function parseBoxes(text: string, limits: BoxLimits = {}): ParsedBoxes {
  const maxX = limits.maxX ?? MAX_COORD;
  const maxY = limits.maxY ?? MAX_COORD;
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
    const box = readBox(g, maxX, maxY);
    if (typeof box === "string") return { ok: false, reason: box };
    boxes.push(box);
  }
  return { ok: true, boxes };
}

/** Lower-case, trimmed, single-spaced, NFKC: labels compare case-insensitively after trimming. */
export function normaliseLabel(label: string): string {
  return label.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();
}

/** Whether a text is a detection JSON answer (objects, or one of the box keys) rather than a plain box list. */
export function looksLikeDetectionJson(text: string): boolean {
  return /[{}]|bbox_[23]d|point_2d/.test(text);
}

/**
 * A box of four numbers in `frame`, converted to thousandths, or why it is invalid.
 * @example toThousandths([0, 0, 320, 240], { coords: "pixel", imageSize: { width: 640, height: 480 } })
 * // [0, 0, 500, 500]
 */
export function toThousandths(numbers: readonly number[], frame: BoxFrame): Box | string {
  if (numbers.length === 2) return "unsupported: a point [x, y] is not a box (point answers are not scored)";
  if (numbers.length !== 4) return `a box has ${numbers.length} numbers, not 4`;
  if (!numbers.every((v) => Number.isFinite(v))) return "a box coordinate is not a number";
  const [x1, y1, x2, y2] = numbers as [number, number, number, number];
  const maxX = frame.coords === "pixel" ? (frame.imageSize?.width ?? 0) : MAX_COORD;
  const maxY = frame.coords === "pixel" ? (frame.imageSize?.height ?? 0) : MAX_COORD;
  if (frame.coords === "pixel" && frame.imageSize === undefined)
    return "pixel boxes need the item's imageSize";
  if (x1 < 0 || x2 > maxX || y1 < 0 || y2 > maxY || x2 < 0 || y2 < 0 || x1 > maxX || y1 > maxY) {
    return frame.coords === "pixel"
      ? `a coordinate is outside the ${maxX}×${maxY} image`
      : `a coordinate is outside 0–${MAX_COORD}`;
  }
  if (x1 > x2) return "a box has x1 > x2";
  if (y1 > y2) return "a box has y1 > y2";
  if (frame.coords === "0-999") return [x1, y1, x2, y2];
  return [(x1 * 1000) / maxX, (y1 * 1000) / maxY, (x2 * 1000) / maxX, (y2 * 1000) / maxY];
}

/** Strip the GLM special tokens and one ```json fence; null when there are several fences (several answers). */
function unwrap(text: string): string | null {
  const s = text.normalize("NFKC").replace(SPECIAL_TOKEN, "");
  const fences = [...s.matchAll(FENCE)];
  if (fences.length > 1) return null;
  return (fences.length === 1 ? fences[0]![1]! : s).trim();
}

function isRecord(v: Literal): v is { [key: string]: Literal } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse JSON, or Python-literal syntax (single quotes, True/None) when JSON fails; the JSON error otherwise. */
function parseJsonish(text: string): Literal | string {
  try {
    return JSON.parse(text) as Literal;
  } catch (e) {
    const literal = parseLiteral(text);
    if (literal !== undefined) return literal;
    return e instanceof Error ? e.message : String(e);
  }
}

/** One object of the list: its box and label, or why it is not a detection. `n` is 1-based, for the reason. */
function readObject(v: Literal, n: number, frame: BoxFrame): Detection | string {
  if (!isRecord(v)) return `object ${n} is not a {"label", "bbox_2d"} object`;
  if (Object.hasOwn(v, "bbox_3d")) return "unsupported: 3-D boxes (bbox_3d) are not scored";
  const pointKey = POINT_KEYS.find((k) => Object.hasOwn(v, k));
  if (pointKey !== undefined && !Object.hasOwn(v, "bbox_2d")) {
    return `unsupported: point answers (${pointKey}) are not scored, only boxes (bbox_2d)`;
  }
  if (!Object.hasOwn(v, "bbox_2d")) return `object ${n} has no bbox_2d`;
  let raw = v.bbox_2d!;
  // `[[x1, y1, x2, y2]]`: GLM's own bracket style around a single box.
  if (Array.isArray(raw) && raw.length === 1 && Array.isArray(raw[0])) raw = raw[0];
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === "number")) {
    return `object ${n}: bbox_2d is not a list of numbers`;
  }
  const box = toThousandths(raw as number[], frame);
  if (typeof box === "string") return `object ${n}: ${box}`;
  const label = v.label;
  if (label !== undefined && label !== null && typeof label !== "string")
    return `object ${n}: label is not text`;
  return { box, label: typeof label === "string" && label.trim() !== "" ? normaliseLabel(label) : null };
}

/** The JSON form: a list of objects, or one object. */
function readJson(text: string, frame: BoxFrame): ParsedDetections {
  // Prose around the JSON may name the objects, but not hold numbers (a second answer).
  const start = /^[[{]/.test(text) ? 0 : text.search(/[[{]/);
  const end = start === 0 ? text.length - 1 : Math.max(text.lastIndexOf("]"), text.lastIndexOf("}"));
  if (start < 0 || end < start) return fail("malformed detection JSON: no [ … ] or { … } found");
  if (/\d/.test(text.slice(0, start) + text.slice(end + 1))) {
    return fail("malformed detection JSON: numbers outside the JSON");
  }
  const body = text.slice(start, end + 1);
  if (body.length > MAX_DETECTION_CHARS) {
    return fail(`detection JSON longer than ${MAX_DETECTION_CHARS} characters`);
  }
  const value = parseJsonish(body);
  if (typeof value === "string") return fail(`malformed detection JSON: ${value}`);
  const list = Array.isArray(value) ? value : [value];
  if (list.length > MAX_DETECTIONS) return fail(`more than ${MAX_DETECTIONS} objects`);
  const detections: Detection[] = [];
  for (let k = 0; k < list.length; k++) {
    const d = readObject(list[k]!, k + 1, frame);
    if (typeof d === "string") return fail(d);
    detections.push(d);
  }
  return { ok: true, detections };
}

/** The plain form: GLM's bracket lists, no labels (the grounding verifier's reader, in the side's frame). */
function readPlain(text: string, frame: BoxFrame): ParsedDetections {
  const limits =
    frame.coords === "pixel" && frame.imageSize !== undefined
      ? { maxX: frame.imageSize.width, maxY: frame.imageSize.height }
      : {};
  const parsed = parseBoxes(text, limits);
  if (!parsed.ok) return parsed;
  const detections: Detection[] = [];
  for (const b of parsed.boxes) {
    const box = toThousandths(b, frame);
    if (typeof box === "string") return fail(box);
    detections.push({ box, label: null });
  }
  return { ok: true, detections };
}

/**
 * Read a detection answer (JSON objects or plain boxes) with its boxes in `frame`, converted to thousandths.
 * @example readDetections('[{"label": "Cat ", "bbox_2d": [1, 2, 3, 4]}]', { coords: "0-999" })
 * // { ok: true, detections: [{ box: [1, 2, 3, 4], label: "cat" }] }
 */
export function readDetections(text: string, frame: BoxFrame): ParsedDetections {
  const s = unwrap(text);
  if (s === null) return fail("several code blocks: one detection answer expected");
  if (s === "") return fail("no detection answer");
  // An empty list: no object of the asked kind is in the image.
  if (/^\[\s*\]$/.test(s)) return { ok: true, detections: [] };
  return looksLikeDetectionJson(s) ? readJson(s, frame) : readPlain(s, frame);
}
