/**
 * MMMU validation (900 items, 30 subjects). Official rule: MMMU-Benchmark/MMMU `eval/` (`mmmu-parse.ts`): the
 * prompt is the question, "(A) option" lines and "Answer with the option's letter from the given choices
 * directly." (open questions: "Answer the question using a single word or phrase."); multiple-choice answers go
 * through `parse_multi_choice_response`, whose random fallback is Python's `random` seeded with 42 once per run and
 * drawn in item order (`main_parse_and_eval.py --subject ALL` runs subjects in `CAT_SHORT2LONG` order, which `load`
 * keeps); open answers through `parse_open_response`/`eval_open`. Headline: the instance-level accuracy; breakdowns
 * per subject and discipline. Release formats: the hub's `MMMU/MMMU` Parquet (a folder of subject folders, or
 * shards; `options` a Python-literal list; `image_1..7`), JSON/JSONL records, and the example outputs' records
 * (`all_choices`, `index2ans`).
 */
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { GlmvError } from "../../util/errors.ts";
import { parsePyLiteral, parsePyStringList } from "../python/literal.ts";
import { pyFloatRepr } from "../python/numbers.ts";
import { PyRandom } from "../python/random.ts";
import { pyReprStr } from "../python/text.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { breakdownBy } from "../scoring/breakdown.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, TaskSummary } from "../types.ts";
import {
  evalMultiChoice,
  evalOpen,
  type OpenToken,
  parseMultiChoiceResponse,
  parseOpenResponse,
} from "./mmmu-parse.ts";
import { MMMU_SUBJECTS, subjectBreakdowns, subjectOfId } from "./mmmu-subjects.ts";
import { readReleaseRecords, releaseShards, responseOf } from "./release-records.ts";

export type MmmuItem = EvalItem & {
  gold: string | string[];
  fields: {
    questionType: string;
    allChoices: string[];
    index2ans: Record<string, string>;
    subject: string | undefined;
  };
};

/** A verdict that may rest on a random draw (the parser found no candidate letter). */
export type ChoiceVerdict = ItemVerdict & { randomDraw?: boolean };

/** MMMU's seed, set once when `eval_utils` is imported. */
export const MMMU_SEED = 42;

const MC_INSTRUCTION = "Answer with the option's letter from the given choices directly.";
const OPEN_INSTRUCTION = "Answer the question using a single word or phrase.";

/** `get_multi_choice_info`: letters A, B, … and the letter → option map. */
export function multiChoiceInfo(options: readonly string[]): {
  allChoices: string[];
  index2ans: Record<string, string>;
} {
  const allChoices = options.map((_, i) => String.fromCharCode(65 + i));
  return { allChoices, index2ans: Object.fromEntries(allChoices.map((l, i) => [l, options[i] as string])) };
}

/** The official prompt (configs/llava1.5.yaml through `construct_prompt`). */
export function mmmuPrompt(question: string, questionType: string, options: readonly string[]): string {
  if (questionType !== "multiple-choice") return `${question}\n${OPEN_INSTRUCTION}`;
  const lines = options.map((o, i) => `(${String.fromCharCode(65 + i)}) ${o}\n`).join("");
  return `${question}\n${lines}\n${MC_INSTRUCTION}`;
}

function text(record: BenchRecord, field: string, where: string): string {
  const value = record[field];
  if (typeof value === "string") return value;
  throw new GlmvError("bad_input", `field '${field}' must be a string`, { where });
}

function optionsOf(record: BenchRecord, where: string): string[] {
  const value = record.options;
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return parsePyStringList(value, `${where}.options`);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new GlmvError("bad_input", "field 'options' must be a list of strings or its Python literal", {
    where,
  });
}

/** The gold: a letter, a string, or a list (a Python-literal list in a string, as the hub stores some open answers). */
function goldOf(record: BenchRecord, where: string): string | string[] {
  const value = record.answer;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  const answer = text(record, "answer", where);
  if (answer.trimStart().startsWith("[")) {
    try {
      const list = parsePyLiteral(answer, `${where}.answer`);
      if (Array.isArray(list) && list.every((v) => typeof v === "string")) return list as string[];
    } catch {
      // not a literal list: the text itself is the answer
    }
  }
  return answer;
}

function toItem(record: BenchRecord, where: string, file?: string): MmmuItem {
  const id = text(record, "id", where);
  const questionType = text(record, "question_type", where);
  const options = optionsOf(record, where);
  const info = multiChoiceInfo(options);
  const allChoices = Array.isArray(record.all_choices) ? (record.all_choices as string[]) : info.allChoices;
  const index2ans =
    record.index2ans && typeof record.index2ans === "object"
      ? (record.index2ans as Record<string, string>)
      : info.index2ans;
  const images: EvalImage[] = [];
  for (let i = 1; i <= 7; i++) {
    const cell = record[`image_${i}`];
    if (file !== undefined && cell !== undefined && cell !== null) {
      images.push(imageFromCell(cell, file, `${where}.image_${i}`));
    }
  }
  const question = typeof record.question === "string" ? record.question : "";
  return {
    id,
    prompt: question === "" ? "" : mmmuPrompt(question, questionType, options),
    images,
    gold: goldOf(record, where),
    fields: {
      questionType,
      allChoices,
      index2ans,
      subject: typeof record.subject === "string" ? record.subject : subjectOfId(id),
    },
  };
}

/** A release's files in run order: subject folders in `CAT_SHORT2LONG` order (then any others), else the shards. */
async function mmmuFiles(path: string): Promise<string[]> {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return releaseShards(path);
  const entries = await readdir(path, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && extname(e.name).toLowerCase() === ".parquet"))
    return releaseShards(path);
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const rank = (name: string) => {
    const i = (MMMU_SUBJECTS as readonly string[]).indexOf(name);
    return i === -1 ? MMMU_SUBJECTS.length : i;
  };
  folders.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const files: string[] = [];
  for (const folder of folders) files.push(...(await releaseShards(join(path, folder))));
  if (files.length === 0)
    throw new GlmvError("not_found", "no MMMU Parquet shards under the folder", { where: path });
  return files;
}

function showTokens(tokens: readonly OpenToken[]): string {
  return `[${tokens.map((t) => (t.kind === "num" ? pyFloatRepr(t.value) : pyReprStr(t.value))).join(", ")}]`;
}

/** Scores one run in order, drawing the fallback letters from one `PyRandom(seed)` as the official script does. */
export function scoreMmmu(inputs: { item: MmmuItem; answer: string }[], seed = MMMU_SEED): ChoiceVerdict[] {
  const random = new PyRandom(seed);
  return inputs.map(({ item, answer }) => {
    const { fields, gold } = item;
    if (fields.questionType === "multiple-choice") {
      const parsed = parseMultiChoiceResponse(answer, fields.allChoices, fields.index2ans, random);
      const verdict: ChoiceVerdict = {
        score: evalMultiChoice(gold, parsed.letter) ? 1 : 0,
        extracted: parsed.letter,
      };
      return parsed.randomDraw ? { ...verdict, randomDraw: true } : verdict;
    }
    const tokens = parseOpenResponse(answer);
    return { score: evalOpen(gold, tokens) ? 1 : 0, extracted: showTokens(tokens) };
  });
}

/** Instance-level accuracy (%), per subject and per discipline (ins-level over its subjects), per question type. */
export function summarizeMmmu(items: MmmuItem[], verdicts: ItemVerdict[]): TaskSummary {
  const { bySubject, byDiscipline, overall } = subjectBreakdowns(
    items.map((it) => it.fields.subject),
    verdicts,
  );
  const byType = breakdownBy(
    items.map((it) => it.fields.questionType),
    verdicts,
  );
  return {
    headline: 100 * overall,
    metric: "accuracy",
    unit: "%",
    accuracy: overall,
    breakdowns: { subject: bySubject, discipline: byDiscipline, question_type: byType },
  };
}

export const task: EvalTask<MmmuItem> = {
  name: "mmmu",
  description:
    "MMMU val: official prompt, multiple-choice parser with the seeded random fallback (seed 42, run order), open-answer parser",
  answerScope: "box",
  async load(path) {
    const items: MmmuItem[] = [];
    for (const file of await mmmuFiles(path)) {
      for (const { record, where } of await readReleaseRecords(file)) items.push(toItem(record, where, file));
    }
    return items;
  },
  fromRecord(record, line) {
    return { item: toItem(record, `line ${line}`), response: responseOf(record, line) };
  },
  scoreAll: (inputs) => scoreMmmu(inputs),
  summarize: summarizeMmmu,
};
