/**
 * The answer-extraction judge, for benchmarks whose official rules fall back to an LLM when the rule-based
 * extractor finds nothing (MathVista's `extract_answer` with its few-shot `ext_ans` prompt). The runner hands it
 * (task, item, answer text) for each item the task's scorer marked `needsJudge`, and gets back the extracted
 * answer string; the item then carries that extraction and the task scores it with its own rule. Every answer is
 * cached beside the responses, so a rerun never asks the judge twice.
 */
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { judgeKey, type ResponseCache } from "./cache.ts";
import type { ModelClient } from "./model-client.ts";
import { type RetryPolicy, withRetries } from "./retry.ts";
import type { EvalItem, EvalTask } from "./types.ts";

/**
 * Optional members a task may add for the judge. Without them the judge reads `fields.question` (else the prompt)
 * and the extraction is stored as `fields.extraction`, which MathVista's scorer reads as an already extracted answer.
 */
export type JudgeHooks<I extends EvalItem = EvalItem> = {
  judgeQuestion?(item: I): string;
  withExtraction?(item: I, extracted: string): I;
};

export type JudgedTask = EvalTask & JudgeHooks;

/** Instructions and worked examples, then the item; the judge completes the last "Extracted answer:". */
const INSTRUCTIONS =
  "Below are a few examples of a question, a model's full response to it, and the final answer taken from that " +
  "response. Read them, then do the same for the last response: write only its final answer, in the form the " +
  "question asks for (a number, an option's text or letter, a list), with no explanation.";

const EXAMPLES: { question: string; response: string; extracted: string }[] = [
  {
    question:
      "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, " +
      "at the end.\nQuestion: How many red cubes are left after removing the two small ones?",
    response: "There were five red cubes and two small ones are taken away, which leaves three red cubes.",
    extracted: "3",
  },
  {
    question:
      "Hint: Please answer the question requiring a floating-point number with two decimal places and provide " +
      "the final value, e.g., 1.23, 1.34, 1.45, at the end.\nQuestion: What is the slope of the line shown?",
    response: "Rise over run between the two marked points is 3/4, so the slope comes to 0.75.",
    extracted: "0.75",
  },
  {
    question:
      "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n" +
      "Question: Which bar is the tallest?\nChoices:\n(A) January\n(B) March\n(C) June\n(D) October",
    response: "Comparing the heights, the March bar rises above all the others. The answer is (B).",
    extracted: "B",
  },
  {
    question:
      "Hint: Please answer the question requiring a Python list as an answer and provide the final list, e.g., " +
      "[1, 2, 3], at the end.\nQuestion: List the ages of the two people in the photo, youngest first.",
    response: "The child looks about 8 and the adult about 35, so in order that is [8, 35].",
    extracted: "[8, 35]",
  },
];

/**
 * The judge's prompt for one answer, in the shape MathVista's extractor uses: instructions and examples, the
 * question, the response, then `Extracted answer: ` for the judge to complete.
 * @example extractionPrompt("Question: 2+2?", "It is four, i.e. 4.") // "Below are … Extracted answer: "
 */
export function extractionPrompt(question: string, response: string): string {
  const shots = EXAMPLES.map(
    (e) => `${e.question}\n\nModel response: ${e.response}\n\nExtracted answer: ${e.extracted}`,
  ).join("\n\n");
  return `${INSTRUCTIONS}\n\n${shots}\n\n${question}\n\nModel response: ${response}\n\nExtracted answer: `;
}

/** What the judge reads as the question: the task's hook, else the item's `question` field, else its prompt. */
export function judgeQuestion(task: JudgedTask, item: EvalItem): string {
  if (task.judgeQuestion) return task.judgeQuestion(item);
  const q = item.fields.question;
  return typeof q === "string" && q !== "" ? q : item.prompt;
}

/** The item carrying the judge's extraction (the task's hook, else `fields.extraction`). */
export function withExtraction(task: JudgedTask, item: EvalItem, extracted: string): EvalItem {
  if (task.withExtraction) return task.withExtraction(item, extracted);
  return { ...item, fields: { ...item.fields, extraction: extracted } };
}

/** The judge's reply as an answer: thinking cut out, a leading "Extracted answer:" dropped, trimmed. */
export function cleanJudgeReply(text: string): string {
  const { thinkEnd, answerStart, answerEnd } = SPECIAL_TOKENS;
  const cut = text.lastIndexOf(thinkEnd);
  const afterThinking = cut >= 0 ? text.slice(cut + thinkEnd.length) : text;
  return afterThinking
    .replaceAll(answerStart, "")
    .replaceAll(answerEnd, "")
    .replace(/^\s*extracted answer:\s*/i, "")
    .trim();
}

export type AnswerJudge = {
  readonly id: string;
  /** The answer the extraction prompt gets out of `answer` (the response with thinking already cut out). */
  extract(task: JudgedTask, item: EvalItem, answer: string): Promise<string>;
};

export type JudgeOptions = {
  retry: RetryPolicy;
  cache?: ResponseCache;
  signal?: AbortSignal;
  /** Output budget of one extraction (answers are short). */
  maxTokens?: number;
};

/**
 * A judge over any model client (an OpenAI-compatible endpoint from `--judge openai:URL#model`): greedy, no
 * thinking, retried like the run's own requests, cached by (judge, item, text read).
 * @example const judge = createJudge(client, { retry, cache }); await judge.extract(task, item, "… so 7.")
 */
export function createJudge(client: ModelClient, opts: JudgeOptions): AnswerJudge {
  return {
    id: client.id,
    async extract(task, item, answer) {
      const key = judgeKey(client.id, task.name, item, answer);
      const hit = opts.cache?.getJudged(key);
      if (hit !== undefined) return hit;
      const request = {
        prompt: extractionPrompt(judgeQuestion(task, item), answer),
        images: [],
        thinking: false,
        maxTokens: opts.maxTokens ?? 256,
        temperature: 0,
        seed: 0,
      };
      const reply = await withRetries((signal) => client.generate({ ...request, signal }), opts.retry, {
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const extracted = cleanJudgeReply(reply.text);
      opts.cache?.putJudged(key, extracted);
      return extracted;
    },
  };
}
