/**
 * ScreenSpot, ScreenSpot-v2 and ScreenSpot-Pro GUI grounding (paper §6), scored with the official click rule
 * (SeeClick `pretrain/screenspot_test.py`; ScreenSpot-Pro `eval_screenspot_pro.py` `eval_sample_positive_gt`):
 * the answer's point (a box → its centre), in GLM's thousandths → fractions of the image, is right iff it lies in
 * the gold box, edges included; an unreadable answer is `wrong_format` and wrong (`scoring/click-point.ts`).
 * Breakdowns as the papers' tables: mobile / desktop / web (Pro: its groups) × text / icon.
 *
 * Release layouts, told apart per record:
 * - SeeClick v1/v2 (`screenspot_{mobile,desktop,web}[_v2].json`): `img_filename`, `bbox` [x, y, w, h] px,
 *   `instruction`, `data_type` text/icon, `data_source`; the platform is in the file name; the image size is read;
 * - ScreenSpot-Pro (`annotations/<app>_<os>.json`): `bbox` [x1, y1, x2, y2] px, `img_size`, `ui_type`,
 *   `platform`, `application`, `group`, `id` (only positive instructions: the negative set needs a refusal protocol);
 * - the hub's rootsautomation/ScreenSpot Parquet: `bbox` [x1, y1, x2, y2] as fractions, `image` bytes.
 * Images named by `img_filename` are looked up beside the file, in `images/` or `screenspot_imgs/`, or one level up.
 */
import { basename, dirname, extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { imageFromCell, readRecords } from "../records.ts";
import type { XyxyBox } from "../scoring/boxes.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import { clickHits, clickPoint, formatPoint } from "../scoring/click-point.ts";
import { imageSize } from "../scoring/image-size.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, ScoringInput, TaskSummary } from "../types.ts";
import { firstExisting, releaseFiles } from "./release-records.ts";

/** How a release writes its gold box: SeeClick [x, y, w, h] px, ScreenSpot-Pro corners px, the hub's fractions. */
const BBOX_FORMATS = ["xywh", "xyxy", "xyxy-fraction"] as const;
export type BboxFormat = (typeof BBOX_FORMATS)[number];

export type ScreenspotFields = {
  instruction: string;
  /** The gold box as released, in `bbox_format`. */
  bbox: [number, number, number, number];
  bbox_format: BboxFormat;
  /** `[width, height]` in pixels (absent where the box is already in fractions). */
  img_size?: [number, number];
  /** mobile / desktop / web (v1, v2), or the operating system (Pro). */
  platform: string;
  /** text / icon. */
  ui_type: string;
  /** v1/v2 `data_source` (ios, windows, gitlab, …) or Pro `application`. */
  source?: string;
  /** Pro's application group (Dev, Creative, CAD, Scientific, Office, OS). */
  group?: string;
};

export interface ScreenspotItem extends EvalItem {
  /** The gold box as fractions of the image `[x1, y1, x2, y2]`, as the official code normalises it. */
  gold: XyxyBox;
  fields: ScreenspotFields & Record<string, unknown>;
}

export type ScreenspotOptions = {
  /** `glm`: GLM-V's README grounding prompt; `official`: SeeClick's point prompt. */
  prompt?: "glm" | "official";
};

function buildPrompt(instruction: string, style: "glm" | "official"): string {
  if (style === "official") {
    return `In this UI screenshot, what is the position of the element corresponding to the command "${instruction}" (with point)?`;
  }
  return `Please pinpoint the bounding box [[x1,y1,x2,y2], …] in the image as per the given description. ${instruction}`;
}

/** lmms-eval's screenspot grouping of `data_source` when the file name does not say the platform. */
function platformOfSource(source: string): string {
  if (source.includes("ios") || source.includes("android")) return "mobile";
  if (source.includes("macos") || source.includes("windows")) return "desktop";
  return "web";
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function readBox(value: unknown, where: string): [number, number, number, number] {
  if (
    Array.isArray(value) &&
    value.length === 4 &&
    value.every((v) => typeof v === "number" && Number.isFinite(v))
  ) {
    return value as [number, number, number, number];
  }
  throw new GlmvError("bad_input", "bbox must be 4 numbers", { where: `${where}.bbox` });
}

/** The gold box as fractions of the image, computed in the official order (corners first, then / size). */
export function goldFraction(bbox: readonly number[], format: BboxFormat, size?: readonly number[]): XyxyBox {
  const [a, b, c, d] = bbox as [number, number, number, number];
  const corners: XyxyBox = format === "xywh" ? [a, b, a + c, b + d] : [a, b, c, d];
  if (format === "xyxy-fraction") return corners;
  const [w, h] = size as [number, number];
  return [corners[0] / w, corners[1] / h, corners[2] / w, corners[3] / h];
}

/** Fields of one record (no I/O); `fileStem` names the platform for SeeClick's per-platform files. */
function fieldsFromRecord(
  record: Record<string, unknown>,
  where: string,
  fileStem: string,
): ScreenspotFields {
  const instruction = str(record.instruction) ?? str(record.prompt_to_evaluate);
  if (!instruction) throw new GlmvError("bad_input", "no instruction", { where });
  const bbox = readBox(record.bbox, where);
  const size = record.img_size;
  const img_size =
    Array.isArray(size) && typeof size[0] === "number" && typeof size[1] === "number"
      ? ([size[0], size[1]] as [number, number])
      : undefined;
  const explicit = str(record.bbox_format);
  if (explicit !== undefined && !BBOX_FORMATS.includes(explicit as BboxFormat)) {
    throw new GlmvError("bad_input", `bbox_format must be one of ${BBOX_FORMATS.join(", ")}`, {
      where: `${where}.bbox_format`,
    });
  }
  const pro = record.ui_type !== undefined;
  const bbox_format: BboxFormat =
    (explicit as BboxFormat | undefined) ??
    (pro
      ? "xyxy"
      : record.img_filename !== undefined
        ? "xywh"
        : bbox.every((v) => v <= 1)
          ? "xyxy-fraction"
          : "xyxy");
  const source = str(record.source) ?? str(record.data_source) ?? str(record.application);
  const filePlatform = /(mobile|desktop|web)/.exec(fileStem)?.[1];
  const platform = str(record.platform) ?? filePlatform ?? (source ? platformOfSource(source) : "unknown");
  const ui_type = str(record.ui_type) ?? str(record.data_type) ?? "unknown";
  const group = str(record.group);
  return {
    instruction,
    bbox,
    bbox_format,
    ...(img_size ? { img_size } : {}),
    platform,
    ui_type,
    ...(source ? { source } : {}),
    ...(group ? { group } : {}),
  };
}

function makeItem(
  id: string,
  fields: ScreenspotFields,
  images: EvalImage[],
  style: "glm" | "official",
  where: string,
): ScreenspotItem {
  if (fields.bbox_format !== "xyxy-fraction" && !fields.img_size) {
    throw new GlmvError("bad_input", "the image size is missing (img_size [width, height])", { where });
  }
  return {
    id,
    prompt: buildPrompt(fields.instruction, style),
    images,
    gold: goldFraction(fields.bbox, fields.bbox_format, fields.img_size),
    fields,
  };
}

/** The screenshot of a record: `image` (hub struct or path), else `img_filename` in the usual folders. */
function recordImage(record: Record<string, unknown>, file: string, where: string): EvalImage {
  if (record.image !== undefined && record.image !== null)
    return imageFromCell(record.image, file, `${where}.image`);
  const name = str(record.img_filename) ?? str(record.file_name);
  if (!name) throw new GlmvError("bad_input", "no image (image or img_filename field)", { where });
  const dir = dirname(file);
  const folders = [dir, join(dir, "..")].flatMap((d) => [d, join(d, "images"), join(d, "screenspot_imgs")]);
  const found = firstExisting(folders.map((folder) => join(folder, name)));
  if (!found)
    throw new GlmvError("not_found", `screenshot ${name} not found beside the file or in images/`, { where });
  return { path: found };
}

async function loadScreenspot(path: string, style: "glm" | "official"): Promise<ScreenspotItem[]> {
  const items: ScreenspotItem[] = [];
  for (const file of await releaseFiles(path)) {
    const stem = basename(file, extname(file));
    for (const [i, record] of (await readRecords(file)).entries()) {
      const where = `${file}:[${i}]`;
      const image = recordImage(record, file, where);
      const fields = fieldsFromRecord(record, where, stem);
      if (fields.bbox_format !== "xyxy-fraction" && !fields.img_size) {
        const { width, height } = await imageSize(image, where);
        fields.img_size = [width, height];
      }
      const id = str(record.id) ?? `${stem}:${i}`;
      items.push(makeItem(id, fields, [image], style, where));
    }
  }
  return items;
}

function scoreAll(inputs: ScoringInput<ScreenspotItem>[]): ItemVerdict[] {
  return inputs.map(({ item, answer }) => {
    const point = clickPoint(answer);
    if (!point) return { score: 0, extracted: null };
    return { score: clickHits(point, item.gold) ? 1 : 0, extracted: formatPoint(point) };
  });
}

function summarize(items: ScreenspotItem[], verdicts: ItemVerdict[]): TaskSummary {
  const scores = items.map((_, i) => verdicts[i]?.score ?? 0);
  // The papers' tables: SeeClick's mobile/desktop/web × text/icon; ScreenSpot-Pro's groups × text/icon.
  const area = (item: ScreenspotItem) => item.fields.group ?? item.fields.platform;
  const wrongFormat = verdicts.filter((v) => v.extracted === null).length;
  return {
    headline: 100 * meanScore(scores),
    metric: "accuracy",
    unit: "%",
    accuracy: meanScore(scores),
    breakdowns: {
      table: breakdownBy(
        items.map((item) => `${area(item)}/${item.fields.ui_type}`),
        scores,
      ),
      platform: breakdownBy(
        items.map((item) => item.fields.platform || undefined),
        scores,
      ),
      group: breakdownBy(
        items.map((item) => item.fields.group || undefined),
        scores,
      ),
      ui_type: breakdownBy(
        items.map((item) => item.fields.ui_type || undefined),
        scores,
      ),
      source: breakdownBy(
        items.map((item) => item.fields.source || undefined),
        scores,
      ),
      format: {
        read: {
          n: items.length - wrongFormat,
          score: meanScore(scores.filter((_, i) => verdicts[i]?.extracted !== null)),
        },
        wrong_format: { n: wrongFormat, score: 0 },
      },
    },
  };
}

/** A saved-output record (an item's id and fields plus `response`) back into an item; no image is read. */
function fromRecord(record: Record<string, unknown>, line: number, style: "glm" | "official") {
  const where = `line ${line}`;
  if (typeof record.response !== "string") throw new GlmvError("bad_input", "no response string", { where });
  const stem = str(record.task_filename) ?? "";
  const item = makeItem(
    str(record.id) ?? `line-${line}`,
    fieldsFromRecord(record, where, stem),
    [],
    style,
    where,
  );
  return { item, response: record.response };
}

/**
 * The ScreenSpot task with a prompt style (default GLM's grounding prompt).
 * @example const items = await createScreenspotTask().load("ScreenSpot-Pro/annotations");
 */
export function createScreenspotTask(options: ScreenspotOptions = {}): EvalTask<ScreenspotItem> {
  const style = options.prompt ?? "glm";
  return {
    name: "screenspot",
    description:
      "ScreenSpot / v2 / Pro: click point (a box's centre, 0–999) inside the gold box, edges included",
    answerScope: "box",
    load: (path) => loadScreenspot(path, style),
    fromRecord: (record, line) => fromRecord(record, line, style),
    scoreAll,
    summarize,
  };
}

export const task = createScreenspotTask();
