/**
 * The evaluation harness's contract (paper §6): a benchmark is a `Task` that loads its own release format, builds
 * its prompt, and scores answers with its official rule. Runners, model clients and reports only see these types.
 */
import { z } from "zod";

/** An image as the benchmark ships it: a file on disk, or bytes from a Parquet/JSON cell. */
export type EvalImage = { path: string } | { bytes: Uint8Array; mime: string };

/** Video as frames the harness already sampled (files or bytes), plus the clip length for duration breakdowns. */
export type EvalVideo = { frames: EvalImage[]; seconds?: number };

/** One benchmark item, ready to ask: `id` is the benchmark's own id (MMMU `validation_Accounting_1`, MathVista pid). */
export interface EvalItem {
  id: string;
  /** The question text to send (the benchmark's official prompt, built by the task). */
  prompt: string;
  images: EvalImage[];
  video?: EvalVideo;
  /** The gold answer, in whatever shape the official scorer takes (string, list, box, …). */
  gold: unknown;
  /** The item's own fields the scorer or the breakdowns read (choices, precision, category, …). */
  fields: Record<string, unknown>;
}

/** How a response becomes the text an official parser sees (see extract.ts). */
export const ExtractModeSchema = z.enum(["auto", "glm", "official"]);
export type ExtractMode = z.infer<typeof ExtractModeSchema>;

/** What the official rule made of one answer. `score` is in [0, 1] (1/0 for accuracy tasks, ANLS, VQA score). */
export interface ItemVerdict {
  score: number;
  /** The answer the official parser extracted (after normalisation), or null where it found none. */
  extracted: string | null;
  /** True where the official rules call for an LLM judge/extractor that was not available, so the item scored 0. */
  needsJudge?: boolean;
  /** True where the official rule decided by a random draw (MMMU's fallback): the verdict is a coin toss. */
  randomDraw?: boolean;
}

/** One scored answer in a run: what `scoreAll` receives, in the run's item order. */
export interface ScoringInput<I extends EvalItem = EvalItem> {
  item: I;
  /** The model's raw response (thinking included), untouched. */
  response: string;
  /** The text after GLM-aware extraction (`extract.ts`): what the official parser gets. */
  answer: string;
}

/** A breakdown row: items and mean score of one value of one field (MathVista skills, OCRBench types, …). */
export type BreakdownRow = { n: number; score: number };

/** The benchmark's headline and its breakdowns, in the benchmark's own unit. */
export interface TaskSummary {
  /** The number the benchmark reports (MMMU accuracy %, OCRBench points out of 1000, ANLS, …). */
  headline: number;
  /** Name and unit of the headline, e.g. `{ metric: "accuracy", unit: "%" }` or `{ metric: "score", unit: "points" }`. */
  metric: string;
  unit: string;
  /** Mean item score in [0, 1] where the headline is an accuracy; absent where it is not. */
  accuracy?: number;
  breakdowns: Record<string, Record<string, BreakdownRow>>;
}

/**
 * A benchmark. One module per task under `src/eval/tasks/`, registered in `registry.ts`.
 * `answerScope`: `box` takes the first GLM box as the answer; `whole` (OCR-style) scores the whole `<answer>` text.
 */
export interface EvalTask<I extends EvalItem = EvalItem> {
  name: string;
  description: string;
  answerScope: "box" | "whole";
  /** Reads the benchmark's release format from a local file or folder (nothing is downloaded). */
  load(path: string): Promise<I[]>;
  /** Items from a JSONL of saved outputs (item fields plus `response`), for `glmv eval score`. */
  fromRecord(record: Record<string, unknown>, line: number): { item: I; response: string };
  /**
   * Scores a whole run in item order: some official rules carry state across items (MMMU's seeded random
   * fallback consumes draws in order), so scoring is one call per run, never per item.
   */
  scoreAll(inputs: ScoringInput<I>[]): ItemVerdict[];
  /** The headline and breakdowns from the items and their verdicts (same order). */
  summarize(items: I[], verdicts: ItemVerdict[]): TaskSummary;
  /** Generation settings the official protocol fixes (e.g. ChartQA's 16 new tokens in non-thinking mode). */
  maxTokens?: number;
}
