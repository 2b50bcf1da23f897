/**
 * AI2D test (3088 diagram questions, 4 options). Official rule: lmms-eval `lmms_eval/tasks/ai2d/` — the prompt is
 * the question, the lettered options ("A. …" one per line) and "Answer with the option's letter from the given
 * choices directly."; the gold is the letter of `int(answer)`; `MultiChoiceRegexFilter` turns a response starting
 * with `X.` into X and leaves anything else whole; `exact_match` ignores case and ASCII punctuation
 * (`scoring/mcq.ts`). Release formats: the hub's `lmms-lab/ai2d` Parquet (`question`, `options`, `answer` as an
 * index string, `image`), and JSON/JSONL records with the same fields (image as a path; a letter answer accepted).
 */
import { GlmvError } from "../../util/errors.ts";
import { type BenchRecord, imageFromCell } from "../records.ts";
import { meanScore } from "../scoring/breakdown.ts";
import { ai2dFilter, exactMatchIgnoringCaseAndPunctuation, optionLetters } from "../scoring/mcq.ts";
import type { EvalItem, EvalTask, TaskSummary } from "../types.ts";
import {
  optionalString,
  readReleaseRecords,
  releaseShards,
  responseOf,
  stringField,
  stringList,
} from "./release-records.ts";

export type Ai2dItem = EvalItem & { gold: string; fields: { options: string[] } };

export const AI2D_POST_PROMPT = "\nAnswer with the option's letter from the given choices directly.";

/** lmms-eval's `mcq` prompt: question, newline, "A. option" lines, the post-prompt. */
export function ai2dPrompt(question: string, options: readonly string[]): string {
  const letters = optionLetters(options.length);
  return `${question}\n${options.map((o, i) => `${letters[i]}. ${o}`).join("\n")}${AI2D_POST_PROMPT}`;
}

/** The gold letter: `options[int(answer)]`'s letter (the hub's "0".."3"), or a letter as given. */
function goldLetter(record: BenchRecord, options: readonly string[], where: string): string {
  const answer = stringField(record, "answer", where).trim();
  const letters = optionLetters(options.length);
  const letter = /^\d+$/.test(answer) ? letters[Number(answer)] : letters.find((l) => l === answer);
  if (letter === undefined) {
    throw new GlmvError(
      "bad_input",
      `field 'answer' must be an option index or letter of ${options.length} options, got "${answer}"`,
      {
        where,
      },
    );
  }
  return letter;
}

function toItem(id: string, source: { record: BenchRecord; where: string; file?: string }): Ai2dItem {
  const { record, where, file } = source;
  const options = stringList(record, "options", where);
  const cell = record.image ?? record.image_1;
  return {
    id,
    prompt: ai2dPrompt(stringField(record, "question", where), options),
    images: file !== undefined && cell !== undefined ? [imageFromCell(cell, file, `${where}.image`)] : [],
    gold: goldLetter(record, options, where),
    fields: { options },
  };
}

/** The record's own id where it has one (`id`, `question_id`), else its position. */
function idOf(record: BenchRecord, position: number, where: string): string {
  return (
    optionalString(record, "id", where) ?? optionalString(record, "question_id", where) ?? String(position)
  );
}

export const task: EvalTask<Ai2dItem> = {
  name: "ai2d",
  description:
    "AI2D test: lettered options, lmms-eval's leading-letter filter and exact match (case, punctuation)",
  answerScope: "box",
  maxTokens: 16,
  async load(path) {
    const items: Ai2dItem[] = [];
    for (const file of await releaseShards(path)) {
      for (const source of await readReleaseRecords(file)) {
        items.push(toItem(idOf(source.record, items.length, source.where), source));
      }
    }
    return items;
  },
  fromRecord(record, line) {
    const where = `line ${line}`;
    return {
      item: toItem(idOf(record, line - 1, where), { record, where }),
      response: responseOf(record, line),
    };
  },
  scoreAll(inputs) {
    return inputs.map(({ item, answer }) => {
      const filtered = ai2dFilter(answer);
      return {
        score: exactMatchIgnoringCaseAndPunctuation(filtered, item.gold) ? 1 : 0,
        extracted: filtered,
      };
    });
  },
  summarize(_items, verdicts): TaskSummary {
    const accuracy = meanScore(verdicts.map((v) => v.score));
    return { headline: 100 * accuracy, metric: "accuracy", unit: "%", accuracy, breakdowns: {} };
  },
};
