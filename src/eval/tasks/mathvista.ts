/**
 * MathVista testmini (1000 items). Official rule: lupantech/MathVista `evaluation/` — the prompt is the dataset's
 * `query` (hint, question with unit, lettered choices; built the same way where a release lacks it); an answer
 * is extracted by extract_answer.py's rules (GPT otherwise: such items are `needsJudge` and score 0), normalised
 * by calculate_score.py (`mathvista-rules.ts`) and compared with the gold string. An item that already carries an
 * `extraction` (a results file) is scored from it, as calculate_score.py does. A GLM box (the answer differs from
 * the raw response) is taken as the extraction. Breakdowns: the nine keys of the official scores file.
 * Release formats: `data/testmini.json` (object keyed by pid, images as paths) and the hub's `AI4Math/MathVista`
 * Parquet (`decoded_image` bytes; the `testmini` shards of a folder).
 */
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { type BenchRecord, imageFromCell, RECORD_KEY } from "../records.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, ScoringInput, TaskSummary } from "../types.ts";
import {
  DEFAULT_RULES,
  extractByRules,
  type MathVistaProblem,
  type MathVistaRules,
  normalizeExtraction,
  safeEqual,
} from "./mathvista-rules.ts";
import { readReleaseRecords, releaseShards, responseOf } from "./release-records.ts";

export type MathVistaItem = EvalItem & {
  gold: string;
  fields: MathVistaProblem & {
    unit: string | null;
    /** An answer already extracted (the results files' GPT `extraction`), scored instead of re-extracting. */
    extraction?: unknown;
    /** language, source, category, task, context, grade, skills (as the release or results file has them). */
    metadata: Record<string, unknown>;
  };
};

const HINTS = {
  multiChoice:
    "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.",
  integer:
    "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.",
  float1:
    "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value, e.g., 1.2, 1.3, 1.4, at the end.",
  float2:
    "Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value, e.g., 1.23, 1.34, 1.45, at the end.",
  list: "Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.",
};

/** The official zero-shot query (data/query.json): hint, "Question: …" with "(Unit: …)", then "Choices:" lines. */
export function mathvistaQuery(question: string, problem: MathVistaProblem, unit: string | null): string {
  let hint = HINTS.integer;
  if (problem.questionType === "multi_choice") hint = HINTS.multiChoice;
  else if (problem.answerType === "float") hint = problem.precision === 1 ? HINTS.float1 : HINTS.float2;
  else if (problem.answerType === "list") hint = HINTS.list;
  const lines = [hint, `Question: ${question}${unit ? ` (Unit: ${unit})` : ""}`];
  if (problem.choices && problem.choices.length > 0) {
    lines.push("Choices:", ...problem.choices.map((c, i) => `(${String.fromCharCode(65 + i)}) ${c}`));
  }
  return lines.join("\n");
}

function text(record: BenchRecord, field: string, where: string): string {
  const value = record[field];
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  throw new GlmvError("bad_input", `field '${field}' must be a string`, { where });
}

function nullableText(record: BenchRecord, field: string, where: string): string | null {
  return record[field] === undefined || record[field] === null ? null : text(record, field, where);
}

function choicesOf(record: BenchRecord, where: string): string[] | null {
  const value = record.choices;
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.every((c) => typeof c === "string")) return value;
  throw new GlmvError("bad_input", "field 'choices' must be a list of strings or null", { where });
}

function precisionOf(record: BenchRecord, where: string): number | null {
  const value = record.precision;
  if (value === undefined || value === null) return null;
  if (typeof value === "number" || typeof value === "bigint") return Number(value);
  throw new GlmvError("bad_input", "field 'precision' must be a number or null", { where });
}

function toItem(record: BenchRecord, where: string, file?: string): MathVistaItem {
  const pid = nullableText(record, "pid", where) ?? nullableText(record, RECORD_KEY, where);
  if (pid === null) throw new GlmvError("bad_input", "the item has no 'pid'", { where });
  const problem: MathVistaProblem = {
    questionType: text(record, "question_type", where),
    answerType: text(record, "answer_type", where),
    choices: choicesOf(record, where),
    precision: precisionOf(record, where),
  };
  const unit = nullableText(record, "unit", where);
  const query = nullableText(record, "query", where);
  const question = nullableText(record, "question", where) ?? "";
  const metadata = record.metadata;
  const images: EvalImage[] = [];
  const cell = record.decoded_image ?? record.image;
  if (file !== undefined && cell !== undefined && cell !== null) {
    images.push(imageFromCell(cell, file, `${where}.image`));
  }
  return {
    id: pid,
    prompt: query ?? mathvistaQuery(question, problem, unit),
    images,
    gold: text(record, "answer", where),
    fields: {
      ...problem,
      unit,
      ...(record.extraction !== undefined ? { extraction: record.extraction } : {}),
      metadata: metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : {},
    },
  };
}

/** A results file's extraction counts where extract_answer.py would keep it (`verify_extraction`: non-blank). */
function savedExtraction(item: MathVistaItem): { value: unknown } | null {
  const saved = item.fields.extraction;
  if (saved === undefined || saved === null) return null;
  if (typeof saved === "string" && saved.trim() === "") return null;
  return { value: saved };
}

/** The testmini shards of a hub folder (`testmini-*.parquet`), else the release's files as found. */
async function mathvistaFiles(path: string): Promise<string[]> {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    const testmini = (await readdir(path))
      .filter((f) => f.startsWith("testmini") && extname(f).toLowerCase() === ".parquet")
      .sort();
    if (testmini.length > 0) return testmini.map((f) => join(path, f));
  }
  return releaseShards(path);
}

/** Scores one run with the given rules (`task` uses `DEFAULT_RULES`; tests reproduce the 2023 results with others). */
export function scoreMathVista(inputs: ScoringInput<MathVistaItem>[], rules: MathVistaRules): ItemVerdict[] {
  return inputs.map(({ item, response, answer }) => {
    const saved = savedExtraction(item);
    let extraction: unknown;
    if (saved) extraction = saved.value;
    else if (answer !== response)
      extraction = answer; // GLM parsing already took the boxed answer out
    else {
      const ruled = extractByRules(answer, item.fields, rules);
      if ("needsJudge" in ruled) return { score: 0, extracted: null, needsJudge: true };
      extraction = ruled.extraction;
    }
    const prediction = normalizeExtraction(extraction, item.fields, rules.integerRule);
    return { score: safeEqual(prediction, item.gold) ? 1 : 0, extracted: prediction };
  });
}

const METADATA_KEYS = ["language", "source", "category", "task", "context", "grade"] as const;

function metadataText(item: MathVistaItem, key: string): string | undefined {
  const value = item.fields.metadata[key];
  return typeof value === "string" ? value : undefined;
}

/** Accuracy (%), and the official scores file's breakdowns: question/answer type, six metadata keys, skills. */
export function summarizeMathVista(items: MathVistaItem[], verdicts: ItemVerdict[]): TaskSummary {
  const accuracy = meanScore(verdicts.map((v) => v.score));
  const breakdowns: TaskSummary["breakdowns"] = {
    question_type: breakdownBy(
      items.map((it) => it.fields.questionType),
      verdicts,
    ),
    answer_type: breakdownBy(
      items.map((it) => it.fields.answerType),
      verdicts,
    ),
  };
  for (const key of METADATA_KEYS) {
    breakdowns[key] = breakdownBy(
      items.map((it) => metadataText(it, key)),
      verdicts,
    );
  }
  // a skill counts an item once however often it is listed (the official test is `value in skills`)
  const skills = items.map((it) => {
    const list = it.fields.metadata.skills;
    return Array.isArray(list)
      ? [...new Set(list.filter((s): s is string => typeof s === "string"))]
      : undefined;
  });
  breakdowns.skills = breakdownBy(skills, verdicts);
  return { headline: 100 * accuracy, metric: "accuracy", unit: "%", accuracy, breakdowns };
}

export const task: EvalTask<MathVistaItem> = {
  name: "mathvista",
  description:
    "MathVista testmini: official query, rule-based extraction (GPT-only items need a judge), nearest-choice and precision normalisation",
  answerScope: "box",
  async load(path) {
    const items: MathVistaItem[] = [];
    for (const file of await mathvistaFiles(path)) {
      for (const { record, where } of await readReleaseRecords(file)) items.push(toItem(record, where, file));
    }
    return items;
  },
  fromRecord(record, line) {
    return { item: toItem(record, `line ${line}`), response: responseOf(record, line) };
  },
  scoreAll: (inputs) => scoreMathVista(inputs, DEFAULT_RULES),
  summarize: summarizeMathVista,
};
