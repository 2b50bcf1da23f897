/**
 * Video-MME (paper §6, video understanding): four-option multiple choice over a video given as frames sampled
 * ahead of time (the harness never decodes video). Prompt and extraction as the official code: the "Frames"
 * prompt of lmms-eval `lmms_eval/tasks/videomme/utils.py` (`videomme_doc_to_text`, no subtitles), and
 * `extract_characters_regex` (BradyFU/Video-MME `evaluation/eval_your_results.py`; `scoring/videomme-answer.ts`).
 *
 * Headline: accuracy over every question, an answer with no letter counting wrong (lmms-eval's aggregate). The
 * Video-MME script instead leaves such answers out of its denominator; that figure is the `answered` row of the
 * `extraction` breakdown. Breakdowns: duration (short / medium / long), domain, sub-category, task type.
 *
 * Release layouts: the hub's lmms-lab/Video-MME rows (`video_id`, `duration`, `domain`, `sub_category`,
 * `videoID`, `question_id`, `task_type`, `question`, `options` ["A. …", …], `answer`) as Parquet / JSON / JSONL,
 * or the official results layout (one record per video: `video_id`, `duration_category`, `video_category`,
 * `video_subcategory`, `questions` [{ `question_id`, `task_type`, `question`, `choices`, `answer` }]).
 * Frames: a `frames` list in the record, else the image files in `frames/<videoID>/` (or `frames/<video_id>/`)
 * beside the release file or one level up, in natural name order (frame_2 before frame_10).
 */
import { readdirSync, statSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { imageFromCell, readRecords } from "../records.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import { extractVideoMmeLetter } from "../scoring/videomme-answer.ts";
import type {
  EvalImage,
  EvalItem,
  EvalTask,
  EvalVideo,
  ItemVerdict,
  ScoringInput,
  TaskSummary,
} from "../types.ts";
import { firstExisting, releaseFiles } from "./release-records.ts";

export type VideoMmeFields = {
  video_id: string;
  /** The YouTube id the hub's files are named by, where the release has it. */
  videoID?: string;
  duration: string;
  domain?: string;
  sub_category?: string;
  task_type?: string;
  question: string;
  options: string[];
};

export interface VideoMmeItem extends EvalItem {
  /** The answer letter, A–D. */
  gold: string;
  fields: VideoMmeFields & Record<string, unknown>;
}

const FRAME_EXTS = new Set([".jpg", ".jpeg", ".png", ".webp"]);

/** lmms-eval `videomme_doc_to_text` with the Frames instruction (no subtitles) and its default post-prompt. */
export function videoMmePrompt(question: string, options: readonly string[]): string {
  const instruction =
    "Select the best answer to the following multiple-choice question based on the video. Respond with only the letter (A, B, C, or D) of the correct option.";
  return `${instruction}\n${question}\n${options.join("\n")}\nThe best answer is:`;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

function need(value: string | undefined, field: string, where: string): string {
  if (value === undefined)
    throw new GlmvError("bad_input", `missing ${field}`, { where: `${where}.${field}` });
  return value;
}

/** One question's fields from a flat (hub) record, or a nested question plus its video record. */
function fieldsFrom(
  q: Record<string, unknown>,
  video: Record<string, unknown>,
  where: string,
): VideoMmeFields {
  const options = q.options ?? q.choices;
  if (!Array.isArray(options) || options.length === 0 || !options.every((o) => typeof o === "string")) {
    throw new GlmvError("bad_input", "options must be a list of strings", { where: `${where}.options` });
  }
  const videoID = str(video.videoID) ?? str(q.videoID);
  const domain = str(video.domain) ?? str(video.video_category);
  const sub_category = str(video.sub_category) ?? str(video.video_subcategory);
  const task_type = str(q.task_type);
  return {
    video_id: need(str(video.video_id) ?? videoID, "video_id", where),
    ...(videoID ? { videoID } : {}),
    duration: need(str(video.duration) ?? str(video.duration_category), "duration", where),
    ...(domain ? { domain } : {}),
    ...(sub_category ? { sub_category } : {}),
    ...(task_type ? { task_type } : {}),
    question: need(str(q.question), "question", where),
    options: options as string[],
  };
}

function makeItem(
  q: Record<string, unknown>,
  fields: VideoMmeFields,
  where: string,
  video?: EvalVideo,
): VideoMmeItem {
  return {
    id: need(str(q.question_id) ?? str(q.id), "question_id", where),
    prompt: videoMmePrompt(fields.question, fields.options),
    images: [],
    ...(video ? { video } : {}),
    gold: need(str(q.answer) ?? str(q.gold), "answer", where),
    fields,
  };
}

/** The frame files of one video, in natural order. */
function framesOf(fields: VideoMmeFields, roots: string[], where: string): EvalImage[] {
  const names = [fields.videoID, fields.video_id].filter((n): n is string => n !== undefined);
  const folder = firstExisting(roots.flatMap((root) => names.map((n) => join(root, n))));
  if (!folder || !statSync(folder).isDirectory()) {
    const looked = roots.map((r) => join(r, names[0]!)).join(", ");
    throw new GlmvError("not_found", `no frames folder for video ${names[0]} (looked in ${looked})`, {
      where,
    });
  }
  const files = readdirSync(folder)
    .filter((f) => FRAME_EXTS.has(extname(f).toLowerCase()))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (files.length === 0) throw new GlmvError("not_found", `no frame images in ${folder}`, { where });
  return files.map((f) => ({ path: join(folder, f) }));
}

function videoOf(
  record: Record<string, unknown>,
  fields: VideoMmeFields,
  file: string,
  where: string,
): EvalVideo {
  const listed = record.frames;
  const frames = Array.isArray(listed)
    ? listed.map((cell, k) => imageFromCell(cell, file, `${where}.frames[${k}]`))
    : framesOf(fields, [join(dirname(file), "frames"), join(dirname(file), "..", "frames")], where);
  const seconds = record.seconds ?? record.duration_seconds;
  return { frames, ...(typeof seconds === "number" ? { seconds } : {}) };
}

/** The questions of one release record: itself (hub rows) or its `questions` (the official layout). */
function questionsOf(record: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(record.questions) ? (record.questions as Record<string, unknown>[]) : [record];
}

async function loadVideoMme(path: string): Promise<VideoMmeItem[]> {
  const items: VideoMmeItem[] = [];
  for (const file of await releaseFiles(path)) {
    for (const [i, record] of (await readRecords(file)).entries()) {
      for (const [k, q] of questionsOf(record).entries()) {
        const where = Array.isArray(record.questions) ? `${file}:[${i}].questions[${k}]` : `${file}:[${i}]`;
        const fields = fieldsFrom(q, record, where);
        items.push(makeItem(q, fields, where, videoOf({ ...record, ...q }, fields, file, where)));
      }
    }
  }
  return items;
}

function scoreAll(inputs: ScoringInput<VideoMmeItem>[]): ItemVerdict[] {
  return inputs.map(({ item, answer }) => {
    const letter = extractVideoMmeLetter(answer);
    // The official comparison: the extracted letter equals the answer key exactly ("" never does).
    return { score: letter !== "" && letter === item.gold ? 1 : 0, extracted: letter === "" ? null : letter };
  });
}

function summarize(items: VideoMmeItem[], verdicts: ItemVerdict[]): TaskSummary {
  const scores = items.map((_, i) => verdicts[i]?.score ?? 0);
  const answered = (i: number) => verdicts[i]?.extracted != null;
  return {
    headline: 100 * meanScore(scores),
    metric: "accuracy",
    unit: "%",
    accuracy: meanScore(scores),
    breakdowns: {
      duration: breakdownBy(
        items.map((item) => item.fields.duration || undefined),
        scores,
      ),
      domain: breakdownBy(
        items.map((item) => item.fields.domain || undefined),
        scores,
      ),
      sub_category: breakdownBy(
        items.map((item) => item.fields.sub_category || undefined),
        scores,
      ),
      task_type: breakdownBy(
        items.map((item) => item.fields.task_type || undefined),
        scores,
      ),
      extraction: breakdownBy(
        items.map((_, i) => (answered(i) ? "answered" : "unanswered")),
        scores,
      ),
    },
  };
}

/** A saved-output record (a hub row, or an item's id and fields, plus `response`) back into an item. */
function fromRecord(record: Record<string, unknown>, line: number) {
  const where = `line ${line}`;
  if (typeof record.response !== "string") throw new GlmvError("bad_input", "no response string", { where });
  const q = { ...record, question_id: record.question_id ?? record.id };
  return { item: makeItem(q, fieldsFrom(q, record, where), where), response: record.response };
}

export const task: EvalTask<VideoMmeItem> = {
  name: "videomme",
  description:
    "Video-MME (frames): A–D multiple choice, official letter extraction; by duration, domain, task type",
  answerScope: "box",
  load: loadVideoMme,
  fromRecord,
  scoreAll,
  summarize,
};
