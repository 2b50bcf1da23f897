/**
 * ChartQA test (1250 human-written + 1250 augmented questions). Official rule: relaxed accuracy as lmms-eval
 * `lmms_eval/tasks/chartqa/utils.py` scores it (numbers within 5% of a non-zero target, else case-insensitive
 * equality; see `scoring/relaxed-accuracy.ts`), reported overall and per split (`relaxed_human_split`,
 * `relaxed_augmented_split`). Prompt: the question + "\nAnswer the question with a single word."; 16 new tokens.
 * Release formats: the original `ChartQA Dataset/test/` folder (`test_human.json`, `test_augmented.json`, `png/`),
 * one of those JSON files, and the hub's `lmms-lab/ChartQA` Parquet (`type`, `question`, `answer`, `image`).
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import { relaxedCorrectness } from "../scoring/relaxed-accuracy.ts";
import type { EvalImage, EvalItem, EvalTask, TaskSummary } from "../types.ts";
import {
  imageAt,
  optionalString,
  readReleaseRecords,
  releaseShards,
  responseOf,
  type SourcedRecord,
  stringField,
} from "./release-records.ts";

export type ChartQaSplit = "human_test" | "augmented_test";
export type ChartQaItem = EvalItem & { gold: string; fields: { split: string } };

export const CHARTQA_POST_PROMPT = "\nAnswer the question with a single word.";
const SPLIT_FILES: [string, ChartQaSplit][] = [
  ["test_human.json", "human_test"],
  ["test_augmented.json", "augmented_test"],
];

/** The split a JSON file holds, from its name as the release names them. */
function splitOfFile(file: string): ChartQaSplit {
  const name = basename(file).toLowerCase();
  if (name.includes("human")) return "human_test";
  if (name.includes("augmented")) return "augmented_test";
  throw new GlmvError("bad_input", "a ChartQA JSON file must be test_human.json or test_augmented.json", {
    where: file,
  });
}

/** Accepts the hub's `human_test`/`augmented_test` and the short `human`/`augmented`. */
function normalizeSplit(value: string): string {
  return value === "human" || value === "augmented" ? `${value}_test` : value;
}

/** An item from an original record (`imgname`, `query`, `label`) or a hub row (`type`, `question`, `answer`, `image`). */
function toItem(
  id: string,
  split: string,
  source: { record: BenchRecord; where: string; file?: string },
): ChartQaItem {
  const { record, where, file } = source;
  const original = "query" in record || "label" in record;
  const question = stringField(record, original ? "query" : "question", where);
  const images: EvalImage[] = [];
  if (file !== undefined) {
    if (original) {
      const name = stringField(record, "imgname", where);
      images.push(imageAt([join(dirname(file), "png", name), join(dirname(file), name)]));
    } else {
      images.push(imageFromCell(record.image, file, `${where}.image`));
    }
  }
  return {
    id,
    prompt: `${question}${CHARTQA_POST_PROMPT}`,
    images,
    gold: stringField(record, original ? "label" : "answer", where),
    fields: { split },
  };
}

/** Items of one file, ids numbered within each split (`human_test_0`, …, `augmented_test_0`, …). */
function itemsOf(
  sources: SourcedRecord[],
  splitOf: (s: SourcedRecord) => string,
  counters: Map<string, number>,
) {
  return sources.map((source) => {
    const split = splitOf(source);
    const k = counters.get(split) ?? 0;
    counters.set(split, k + 1);
    return toItem(`${split}_${k}`, split, source);
  });
}

export const task: EvalTask<ChartQaItem> = {
  name: "chartqa",
  description: "ChartQA test: relaxed accuracy (5% on numbers, exact otherwise), human and augmented splits",
  answerScope: "box",
  maxTokens: 16,
  async load(path) {
    const counters = new Map<string, number>();
    const originalFolder =
      existsSync(path) &&
      statSync(path).isDirectory() &&
      SPLIT_FILES.some(([f]) => existsSync(join(path, f)));
    if (originalFolder) {
      const items: ChartQaItem[] = [];
      for (const [name, split] of SPLIT_FILES) {
        if (!existsSync(join(path, name))) continue;
        items.push(...itemsOf(await readReleaseRecords(join(path, name)), () => split, counters));
      }
      return items;
    }
    const items: ChartQaItem[] = [];
    for (const file of await releaseShards(path)) {
      const sources = await readReleaseRecords(file);
      const fileSplit = file.toLowerCase().endsWith(".parquet") ? null : splitOfFile(file);
      const splitOf = (s: SourcedRecord) =>
        fileSplit ?? normalizeSplit(stringField(s.record, "type", s.where));
      items.push(...itemsOf(sources, splitOf, counters));
    }
    return items;
  },
  fromRecord(record, line) {
    const where = `line ${line}`;
    const split = normalizeSplit(
      optionalString(record, "type", where) ?? optionalString(record, "split", where) ?? "",
    );
    const id = optionalString(record, "id", where) ?? String(line - 1);
    return { item: toItem(id, split, { record, where }), response: responseOf(record, line) };
  },
  scoreAll(inputs) {
    return inputs.map(({ item, answer }) => ({
      score: relaxedCorrectness(answer, item.gold) ? 1 : 0,
      extracted: answer,
    }));
  },
  summarize(items, verdicts): TaskSummary {
    const accuracy = meanScore(verdicts.map((v) => v.score));
    return {
      headline: 100 * accuracy,
      metric: "relaxed accuracy",
      unit: "%",
      accuracy,
      breakdowns: {
        split: breakdownBy(
          items.map((it) => it.fields.split || undefined),
          verdicts,
        ),
      },
    };
  },
};
