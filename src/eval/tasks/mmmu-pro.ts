/**
 * MMMU-Pro (1730 items; standard with 10 options, and vision: the question photographed). Official rule:
 * MMMU-Benchmark/MMMU `mmmu-pro/evaluate.py`, whose parser differs from MMMU's: a unique option letter after the
 * last "Answer:" wins; otherwise "(X)", then "X " (no leading space), then "X.", then option text (responses of more
 * than five words), the last occurrence deciding between several; no candidate → `random.choice`, unseeded in the
 * official script (such verdicts are flagged `randomDraw`; glmv draws from `PyRandom(42)` so reruns agree).
 * Prompts: `infer/infer_gpt.py` with `prompts.yaml` (standard: question, "A. option" lines, instruction; vision:
 * the instruction alone with the screenshot). Release formats: the hub's `MMMU/MMMU_Pro` Parquet (`standard (10
 * options)` / `vision` shards; `options` a Python-literal list) and JSON/JSONL records (the official output files).
 */
import { GlmvError } from "../../util/errors.ts";
import { type PyLiteral, parsePyLiteral } from "../python/literal.ts";
import { PyRandom } from "../python/random.ts";
import { pySplitWhitespace, pyStr, pyStrip } from "../python/text.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { breakdownBy, meanScore } from "../scoring/breakdown.ts";
import type { EvalImage, EvalItem, EvalTask, ItemVerdict, TaskSummary } from "../types.ts";
import { type ChoiceVerdict, MMMU_SEED } from "./mmmu.ts";
import { argmax, type ParsedChoice, stripMmmuPunctuation } from "./mmmu-parse.ts";
import { subjectBreakdowns, subjectOfId } from "./mmmu-subjects.ts";
import { readReleaseRecords, releaseShards, responseOf } from "./release-records.ts";

export type MmmuProItem = EvalItem & {
  gold: string;
  /** The options as the release has them: strings, except the odd nested list (one item's options are `[['A', 'B', …]]`). */
  fields: { options: PyLiteral[]; subject: string | undefined; setting: "standard" | "vision" };
};

export type MmmuProMode = "cot" | "direct";

/** `prompts.yaml`: the instruction per mode and setting. */
export const MMMU_PRO_PROMPTS: Record<MmmuProMode, Record<"standard" | "vision", string>> = {
  cot: {
    vision:
      "Write out the multiple-choice question in the image and then solve it. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. Think step by step before answering.",
    standard:
      "Answer the preceding multiple choice question. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options. Think step by step before answering.",
  },
  direct: {
    vision:
      "Answer with the option letter from the given choices directly. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of options.",
    standard: "Answer with the option letter from the given choices directly.",
  },
};

/**
 * evaluate.py's `parse_multi_choice_response` (not MMMU's: see the module comment).
 * @example parseMmmuProResponse("… so (B) fits.\nAnswer: C", ["A", "B", "C"], {...}, new PyRandom(42)) // C
 */
export function parseMmmuProResponse(
  response: string,
  allChoices: readonly string[],
  index2ans: Readonly<Record<string, PyLiteral>>,
  random: PyRandom,
): ParsedChoice {
  const lastAnswer = response.lastIndexOf("Answer:");
  if (lastAnswer !== -1) {
    const tail = pyStrip(response.slice(lastAnswer + "Answer:".length));
    const matching = allChoices.filter((c) => tail.includes(c));
    if (matching.length === 1) return { letter: matching[0] as string, randomDraw: false };
  }
  const text = ` ${stripMmmuPunctuation(response)} `;
  let candidates = allChoices.filter((c) => text.includes(`(${c})`));
  const withBrackets = candidates.length > 0;
  if (candidates.length === 0) candidates = allChoices.filter((c) => text.includes(`${c} `));
  if (candidates.length === 0) candidates = allChoices.filter((c) => text.includes(`${c}.`));
  let byContent = false;
  if (candidates.length === 0 && pySplitWhitespace(text).length > 5) {
    const lower = text.toLowerCase();
    // a non-text option would make Python's `.lower()` raise; it is simply never matched here
    const texts = Object.keys(index2ans).flatMap((k) => (typeof index2ans[k] === "string" ? [k] : []));
    candidates = texts.filter((k) => lower.includes((index2ans[k] as string).toLowerCase()));
    byContent = candidates.length > 0;
  }
  if (candidates.length === 0) return { letter: random.choice(allChoices), randomDraw: true };
  if (candidates.length === 1) return { letter: candidates[0] as string, randomDraw: false };
  const lower = text.toLowerCase();
  const starts = candidates.map((c) => {
    if (byContent) return lower.lastIndexOf((index2ans[c] as string).toLowerCase());
    return text.lastIndexOf(withBrackets ? `(${c})` : ` ${c} `); // -1 for all "X."-only candidates: the first wins
  });
  return { letter: candidates[argmax(starts)] as string, randomDraw: false };
}

/** infer_gpt.py's standard prompt: question, "A. option" lines, the instruction; `<image i>` becomes `<image>`. */
export function mmmuProPrompt(question: string, options: readonly PyLiteral[], instruction: string): string {
  const lines = options.map((o, i) => `${String.fromCharCode(65 + i)}. ${pyStr(o)}`).join("\n");
  return `${question}\n${lines}\n${instruction}`.replace(/<image [1-7]>/g, "<image>");
}

function optionsOf(record: BenchRecord, where: string): PyLiteral[] {
  const value =
    typeof record.options === "string" ? parsePyLiteral(record.options, `${where}.options`) : record.options;
  if (Array.isArray(value)) return value as PyLiteral[];
  throw new GlmvError("bad_input", "field 'options' must be a list of strings or its Python literal", {
    where,
  });
}

function toItem(record: BenchRecord, where: string, mode: MmmuProMode, file?: string): MmmuProItem {
  const id = record.id;
  const answer = record.answer;
  if (typeof id !== "string") throw new GlmvError("bad_input", "field 'id' must be a string", { where });
  if (typeof answer !== "string")
    throw new GlmvError("bad_input", "field 'answer' must be a letter", { where });
  const options = optionsOf(record, where);
  const setting = typeof record.question !== "string" && record.image !== undefined ? "vision" : "standard";
  const images: EvalImage[] = [];
  const cells =
    setting === "vision" ? [record.image] : [1, 2, 3, 4, 5, 6, 7].map((i) => record[`image_${i}`]);
  for (const [i, cell] of cells.entries()) {
    if (cell === undefined || cell === null) break; // infer_gpt.py stops at the first missing image
    if (file !== undefined)
      images.push(imageFromCell(cell, file, `${where}.image${setting === "vision" ? "" : `_${i + 1}`}`));
  }
  const instruction = MMMU_PRO_PROMPTS[mode][setting];
  return {
    id,
    prompt: setting === "vision" ? instruction : mmmuProPrompt(String(record.question), options, instruction),
    images,
    gold: answer,
    fields: {
      options,
      subject: typeof record.subject === "string" ? record.subject : subjectOfId(id),
      setting,
    },
  };
}

/** Scores one run (`mmmu_process_results` per item); fallback draws come from one `PyRandom(seed)`. */
export function scoreMmmuPro(
  inputs: { item: MmmuProItem; answer: string }[],
  seed = MMMU_SEED,
): ChoiceVerdict[] {
  const random = new PyRandom(seed);
  return inputs.map(({ item, answer }) => {
    const letters = item.fields.options.map((_, i) => String.fromCharCode(65 + i));
    const index2ans = Object.fromEntries(letters.map((l, i) => [l, item.fields.options[i] as PyLiteral]));
    const parsed = parseMmmuProResponse(answer, letters, index2ans, random);
    const verdict: ChoiceVerdict = { score: parsed.letter === item.gold ? 1 : 0, extracted: parsed.letter };
    return parsed.randomDraw ? { ...verdict, randomDraw: true } : verdict;
  });
}

/** Accuracy (%): correct over all items, as evaluate.py prints it; per subject, discipline and setting. */
export function summarizeMmmuPro(items: MmmuProItem[], verdicts: ItemVerdict[]): TaskSummary {
  const accuracy = meanScore(verdicts.map((v) => v.score));
  const { bySubject, byDiscipline } = subjectBreakdowns(
    items.map((it) => it.fields.subject),
    verdicts,
  );
  const bySetting = breakdownBy(
    items.map((it) => it.fields.setting),
    verdicts,
  );
  return {
    headline: 100 * accuracy,
    metric: "accuracy",
    unit: "%",
    accuracy,
    breakdowns: { subject: bySubject, discipline: byDiscipline, setting: bySetting },
  };
}

/** The MMMU-Pro task with the prompts of one mode (`task` uses chain-of-thought). */
export function mmmuProTask(mode: MmmuProMode): EvalTask<MmmuProItem> {
  return {
    name: "mmmu-pro",
    description: `MMMU-Pro (standard 10 options / vision): ${mode} prompt, evaluate.py's parser ("Answer:" first), accuracy`,
    answerScope: "box",
    async load(path) {
      const items: MmmuProItem[] = [];
      for (const file of await releaseShards(path)) {
        for (const { record, where } of await readReleaseRecords(file))
          items.push(toItem(record, where, mode, file));
      }
      return items;
    },
    fromRecord(record, line) {
      // evaluate.py scores a non-text response (an API error object) as the empty string
      const failed = record.response !== null && typeof record.response === "object";
      return { item: toItem(record, `line ${line}`, mode), response: failed ? "" : responseOf(record, line) };
    },
    scoreAll: (inputs) => scoreMmmuPro(inputs),
    summarize: summarizeMmmuPro,
  };
}

export const task = mmmuProTask("cot");
