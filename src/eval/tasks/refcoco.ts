/**
 * RefCOCO / RefCOCO+ / RefCOCOg referring-expression grounding (paper §6, "RefCOCO-avg"), scored with lmms-eval's
 * rule (`lmms_eval/tasks/refcoco_grounding/utils.py`): gold `[x, y, w, h]` pixels → corners; the predicted box
 * with the highest IoU against the gold one is kept; headline Acc@0.5 (IoU ≥ 0.5), with mean IoU, Acc@{0.1, 0.3,
 * 0.7, 0.9} and centre accuracy as breakdown figures.
 *
 * One deliberate difference: GLM writes boxes in thousandths of the image (0–999), so each predicted box is read
 * as thousandths → pixels only. lmms-eval tries every box twice, as absolute pixels and as 0–1000 → pixels, and
 * keeps whichever scores best; that lets a wrongly scaled box count and is not GLM's convention.
 *
 * Release layouts: the hub's lmms-lab/RefCOCO, RefCOCOplus and RefCOCOg Parquet (`question_id`, `image` bytes,
 * `answer` = the expressions, `bbox` = [x, y, w, h] px; the split is in the file name), or a JSON / JSONL with
 * `image` (a path beside the file) or `file_name` (beside it or in `images/`), `expression`(s) and `bbox`.
 * By default every expression is its own item (the protocol published RefCOCO accuracies use).
 */
import { basename, dirname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { imageFromCell, readRecords } from "../records.ts";
import {
  answerBoxes,
  bestBoxIndex,
  boxIou,
  centreInBox,
  formatBox,
  readFormattedBox,
  thousandthsToPixels,
  type XyxyBox,
  xywhToXyxy,
} from "../scoring/boxes.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import { imageSize } from "../scoring/image-size.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, ScoringInput, TaskSummary } from "../types.ts";
import { firstExisting, releaseFiles } from "./release-records.ts";

/** What a RefCOCO item carries beyond the contract: the image size turns thousandths into pixels. */
export type RefcocoFields = {
  /** The expression(s) asked about (one, unless expressions are joined). */
  expressions: string[];
  /** The gold box as released, `[x, y, w, h]` in pixels. */
  bbox: [number, number, number, number];
  width: number;
  height: number;
  /** `refcoco`, `refcoco+` or `refcocog`, and the split (`val`, `testA`, …), where known. */
  subset?: string;
  split?: string;
};

export interface RefcocoItem extends EvalItem {
  /** The gold box's corners in pixels. */
  gold: XyxyBox;
  fields: RefcocoFields & Record<string, unknown>;
}

export type RefcocoOptions = {
  /** `glm`: GLM-V's README grounding prompt; `official`: lmms-eval refcoco_grounding's JSON prompt. */
  prompt?: "glm" | "official";
  /** `each`: one item per expression (default); `joined`: one per annotation, expressions listed (lmms-eval). */
  expressions?: "each" | "joined";
};

/** lmms-eval's IoU thresholds, and the one the headline uses. */
const THRESHOLDS = [0.1, 0.3, 0.5, 0.7, 0.9] as const;
const HEADLINE_IOU = 0.5;

/** lmms-eval `_format_refs`: each expression in double quotes, joined by ", ". */
const quoteRefs = (refs: readonly string[]): string =>
  refs.length === 0 ? '""' : refs.map((r) => `"${r}"`).join(", ");

function buildPrompt(refs: readonly string[], style: "glm" | "official"): string {
  if (style === "official") {
    return `Locate every object that matches the description ${quoteRefs(refs)} in the image. Report bbox coordinates in JSON format.`;
  }
  const expr = refs.length === 1 ? refs[0]! : quoteRefs(refs);
  return `Help me to locate ${expr} in the image and give me its bounding boxes.`;
}

/** The expressions of a record: `answer` (the hub), `expressions`, `expression`, `sentences` or `sentence`. */
function readExpressions(record: Record<string, unknown>, where: string): string[] {
  const raw = record.answer ?? record.expressions ?? record.expression ?? record.sentences ?? record.sentence;
  const list = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : null;
  if (!list)
    throw new GlmvError("bad_input", "no referring expression (answer / expression field)", { where });
  // lmms-eval `_format_refs` drops blank expressions after strip().
  return list.map((e) => String(e).trim()).filter((e) => e !== "");
}

function readNumbers(value: unknown, count: number, field: string, where: string): number[] {
  if (
    Array.isArray(value) &&
    value.length === count &&
    value.every((v) => typeof v === "number" && Number.isFinite(v))
  ) {
    return value as number[];
  }
  throw new GlmvError("bad_input", `${field} must be ${count} numbers`, { where: `${where}.${field}` });
}

/** `width`/`height`, `image_width`/`image_height` or `img_size` [w, h] from a record, when present. */
function recordSize(record: Record<string, unknown>): { width: number; height: number } | null {
  const w = record.width ?? record.image_width;
  const h = record.height ?? record.image_height;
  if (typeof w === "number" && typeof h === "number") return { width: w, height: h };
  const size = record.img_size;
  if (Array.isArray(size) && typeof size[0] === "number" && typeof size[1] === "number") {
    return { width: size[0], height: size[1] };
  }
  return null;
}

/** Split and subset from a hub file path: `…/RefCOCOg/data/val-00000-of-00001.parquet` → refcocog / val. */
function splitFromPath(file: string): { subset?: string; split?: string } {
  const split = /^(val|test[AB]?|train)[-_.]/.exec(basename(file))?.[1];
  const lower = file.toLowerCase();
  const subset = /refcocog/.test(lower)
    ? "refcocog"
    : /refcoco(\+|plus|_plus)/.test(lower)
      ? "refcoco+"
      : /refcoco/.test(lower)
        ? "refcoco"
        : undefined;
  return { ...(subset ? { subset } : {}), ...(split ? { split } : {}) };
}

/** The items of one record (no I/O): one per expression, or one with all of them (`joined`). */
function itemsFromRecord(
  record: Record<string, unknown>,
  where: string,
  fallbackId: string,
  images: EvalImage[],
  size: { width: number; height: number },
  opts: Required<RefcocoOptions>,
): RefcocoItem[] {
  const rawId = record.id ?? record.question_id ?? record.ann_id ?? fallbackId;
  const id = String(rawId);
  const bbox = readNumbers(record.bbox, 4, "bbox", where) as RefcocoFields["bbox"];
  const expressions = readExpressions(record, where);
  const subset = typeof record.subset === "string" ? record.subset : undefined;
  const split = typeof record.split === "string" ? record.split : undefined;
  const common = {
    bbox,
    width: size.width,
    height: size.height,
    ...(subset ? { subset } : {}),
    ...(split ? { split } : {}),
  };
  const make = (itemId: string, refs: string[]): RefcocoItem => ({
    id: itemId,
    prompt: buildPrompt(refs, opts.prompt),
    images,
    gold: xywhToXyxy(bbox),
    fields: { ...common, expressions: refs },
  });
  // A list of expressions gets `#k` ids per expression; a single-expression record keeps its own id.
  if (
    opts.expressions === "joined" ||
    !Array.isArray(record.answer ?? record.expressions ?? record.sentences)
  ) {
    return [make(id, expressions)];
  }
  return expressions.map((e, k) => make(`${id}#${k}`, [e]));
}

/** The image of a release record: `image` (path or hub struct), else `image_path` / `file_name` beside the file. */
function recordImage(record: Record<string, unknown>, file: string, where: string): EvalImage {
  if (record.image !== undefined && record.image !== null)
    return imageFromCell(record.image, file, `${where}.image`);
  const name = record.image_path ?? record.file_name;
  if (typeof name !== "string" || name === "") {
    throw new GlmvError("bad_input", "no image (image, image_path or file_name field)", { where });
  }
  const dir = dirname(file);
  const found = firstExisting([join(dir, name), join(dir, "images", name)]);
  if (!found)
    throw new GlmvError("not_found", `image ${name} is neither beside the file nor in images/`, { where });
  return { path: found };
}

async function loadRefcoco(path: string, opts: Required<RefcocoOptions>): Promise<RefcocoItem[]> {
  const items: RefcocoItem[] = [];
  for (const file of await releaseFiles(path)) {
    const fromPath = splitFromPath(file);
    for (const [i, record] of (await readRecords(file)).entries()) {
      const where = `${file}:[${i}]`;
      const image = recordImage(record, file, where);
      const size = recordSize(record) ?? (await imageSize(image, where));
      const withSplit = { ...fromPath, ...record };
      items.push(...itemsFromRecord(withSplit, where, `${basename(file)}:${i}`, [image], size, opts));
    }
  }
  return items;
}

/** Everything one answer's grade needs: the chosen box (thousandths, as written) and its pixel box. */
type Graded = { chosen: XyxyBox | null; pixels: XyxyBox; iou: number };

/** Grade a chosen box (thousandths) against an item; no box is lmms-eval's `[0, 0, 0, 0]`. */
function gradeChosen(item: RefcocoItem, chosen: XyxyBox | null): Graded {
  const { width, height } = item.fields;
  const pixels = chosen ? thousandthsToPixels(chosen, width, height) : ([0, 0, 0, 0] as XyxyBox);
  return { chosen, pixels, iou: boxIou(pixels, item.gold) };
}

/** The official grade of one answer: every box read, the best by IoU kept. */
function gradeAnswer(item: RefcocoItem, answer: string): Graded {
  const boxes = answerBoxes(answer);
  const best = bestBoxIndex(
    boxes.map((b) => thousandthsToPixels(b, item.fields.width, item.fields.height)),
    item.gold,
  );
  return gradeChosen(item, best >= 0 ? boxes[best]! : null);
}

function scoreAll(inputs: ScoringInput<RefcocoItem>[]): ItemVerdict[] {
  return inputs.map(({ item, answer }) => {
    const g = gradeAnswer(item, answer);
    return { score: g.iou >= HEADLINE_IOU ? 1 : 0, extracted: g.chosen ? formatBox(g.chosen) : null };
  });
}

function summarize(items: RefcocoItem[], verdicts: ItemVerdict[]): TaskSummary {
  const graded = items.map((item, i) => gradeChosen(item, readFormattedBox(verdicts[i]?.extracted ?? null)));
  const accAt = (t: number) => graded.map((g) => (g.iou >= t ? 1 : 0));
  const headline = accAt(HEADLINE_IOU);
  const figure = (scores: number[]) => ({ n: items.length, score: meanScore(scores) });
  const metrics: TaskSummary["breakdowns"][string] = { IoU: figure(graded.map((g) => g.iou)) };
  for (const t of THRESHOLDS) metrics[`ACC@${t}`] = figure(accAt(t));
  metrics.Center_ACC = figure(graded.map((g, i) => (centreInBox(items[i]!.gold, g.pixels) ? 1 : 0)));
  const splitOf = (item: RefcocoItem) =>
    item.fields.subset || item.fields.split
      ? [item.fields.subset, item.fields.split].filter(Boolean).join("/")
      : null;
  return {
    headline: 100 * meanScore(headline),
    metric: "Acc@0.5",
    unit: "%",
    accuracy: meanScore(headline),
    breakdowns: {
      metrics,
      split: breakdownBy(
        items.map((item) => splitOf(item) || undefined),
        headline,
      ),
    },
  };
}

/** A saved-output record (an item's id and fields plus `response`) back into an item; no image is read. */
function fromRecord(record: Record<string, unknown>, line: number, opts: Required<RefcocoOptions>) {
  const where = `line ${line}`;
  if (typeof record.response !== "string") throw new GlmvError("bad_input", "no response string", { where });
  const size = recordSize(record);
  if (!size) throw new GlmvError("bad_input", "the image size is missing (width and height)", { where });
  const [item] = itemsFromRecord(record, where, `line-${line}`, [], size, { ...opts, expressions: "joined" });
  return { item: item!, response: record.response };
}

/**
 * The RefCOCO task with a prompt style and expression grouping (defaults: GLM's prompt, one item per expression).
 * @example const t = createRefcocoTask({ prompt: "official" }); const items = await t.load("RefCOCO/data");
 */
export function createRefcocoTask(options: RefcocoOptions = {}): EvalTask<RefcocoItem> {
  const opts: Required<RefcocoOptions> = {
    prompt: options.prompt ?? "glm",
    expressions: options.expressions ?? "each",
  };
  return {
    name: "refcoco",
    description:
      "RefCOCO/+/g grounding: Acc@0.5 (IoU ≥ 0.5, boxes in 0–999 → pixels), lmms-eval refcoco_grounding",
    answerScope: "box",
    load: (path) => loadRefcoco(path, opts),
    fromRecord: (record, line) => fromRecord(record, line, opts),
    scoreAll,
    summarize,
  };
}

export const task = createRefcocoTask();
