/**
 * OCRBench (v1): 1000 OCR questions in 10 types. Official rule: Yuliang-Liu/MultimodalOCR `OCRBench/example.py`
 * (scoring section). An answer is right when a gold answer is a SUBSTRING of the prediction, both lower-cased,
 * stripped and with newlines as spaces; for HME100k (formula recognition) both lose every space and newline and
 * case is kept. A list of golds needs any one. The score is the count right, out of 1000 points, with the per-type
 * points and Text Recognition (the six recognition types, out of 300) it prints.
 * Release formats: `OCRBench.json` (images under `OCRBench_Images/`) and the hub's `echo840/OCRBench` Parquet.
 */
import { dirname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { pyStrip } from "../python/text.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { breakdownBy } from "../scoring/breakdown.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, ScoringInput, TaskSummary } from "../types.ts";
import {
  imageAt,
  readReleaseRecords,
  releaseShards,
  responseOf,
  type SourcedRecord,
  stringField,
} from "./release-records.ts";

export type OcrBenchItem = EvalItem & {
  gold: string | string[];
  fields: { type: string; dataset: string };
};

/** The six recognition types whose points make "Text Recognition (Total 300)". */
export const TEXT_RECOGNITION_TYPES = [
  "Regular Text Recognition",
  "Irregular Text Recognition",
  "Artistic Text Recognition",
  "Handwriting Recognition",
  "Digit String Recognition",
  "Non-Semantic Text Recognition",
];

/** The dataset whose answers are LaTeX formulas, matched without spaces and case-sensitively. */
const HME_DATASET = "HME100k";

/**
 * The official verdict of one prediction.
 * @example ocrbenchCorrect("The sign says CENTRE.", "CENTRE", "IIIT5K") // true (substring, case-folded)
 * @example ocrbenchCorrect("x^{2}", "x ^ { 2 }", "HME100k") // true (spaces removed, case kept)
 */
export function ocrbenchCorrect(
  prediction: string,
  answers: string | readonly string[],
  dataset: string,
): boolean {
  const normalize =
    dataset === HME_DATASET
      ? (s: string) => pyStrip(s).replaceAll("\n", " ").replaceAll(" ", "")
      : (s: string) => pyStrip(s.toLowerCase()).replaceAll("\n", " ");
  const predicted = normalize(prediction);
  return (typeof answers === "string" ? [answers] : answers).some((a) => predicted.includes(normalize(a)));
}

/** An item from an `OCRBench.json` record or a hub row (`dataset`, `question_type`, `answer` list, `image`). */
function toItem(id: string, source: SourcedRecord | { record: BenchRecord; where: string }): OcrBenchItem {
  const { record, where } = source;
  const hub = "question_type" in record || "answer" in record;
  const gold = goldOf(record, hub ? "answer" : "answers", where);
  const images: EvalImage[] = [];
  if ("file" in source) {
    if (hub) images.push(imageFromCell(record.image, source.file, `${where}.image`));
    else {
      const rel = stringField(record, "image_path", where);
      const dir = dirname(source.file);
      images.push(
        imageAt([join(dir, rel), join(dir, "OCRBench_Images", rel), join(dir, "..", "OCRBench_Images", rel)]),
      );
    }
  }
  return {
    id,
    prompt: stringField(record, "question", where),
    images,
    gold,
    fields: {
      type: stringField(record, hub ? "question_type" : "type", where),
      dataset: stringField(record, hub ? "dataset" : "dataset_name", where),
    },
  };
}

function goldOf(record: BenchRecord, field: string, where: string): string | string[] {
  const value = record[field];
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value;
  throw new GlmvError("bad_input", `field '${field}' must be a string or a non-empty list of strings`, {
    where,
  });
}

export const task: EvalTask<OcrBenchItem> = {
  name: "ocrbench",
  description: "OCRBench v1: 1000 OCR items, substring match (HMER without spaces), points out of 1000",
  answerScope: "whole",
  maxTokens: 128,
  async load(path) {
    const items: OcrBenchItem[] = [];
    for (const file of await releaseShards(path)) {
      // Ids are positions in the release (OCRBench.json's own `id` repeats across datasets; the hub has none).
      for (const source of await readReleaseRecords(file)) items.push(toItem(String(items.length), source));
    }
    return items;
  },
  fromRecord(record, line) {
    return {
      item: toItem(String(line - 1), { record, where: `line ${line}` }),
      response: responseOf(record, line),
    };
  },
  scoreAll(inputs: ScoringInput<OcrBenchItem>[]): ItemVerdict[] {
    return inputs.map(({ item, answer }) => ({
      score: ocrbenchCorrect(answer, item.gold, item.fields.dataset) ? 1 : 0,
      extracted: answer,
    }));
  },
  summarize(items, verdicts): TaskSummary {
    const points = verdicts.reduce((sum, v) => sum + v.score, 0);
    const category = items.map((it) =>
      TEXT_RECOGNITION_TYPES.includes(it.fields.type) ? "Text Recognition" : it.fields.type,
    );
    return {
      headline: points,
      metric: "score",
      unit: "points",
      accuracy: items.length === 0 ? 0 : points / items.length,
      breakdowns: {
        category: breakdownBy(category, verdicts),
        type: breakdownBy(
          items.map((it) => it.fields.type),
          verdicts,
        ),
        dataset: breakdownBy(
          items.map((it) => it.fields.dataset),
          verdicts,
        ),
      },
    };
  },
};
