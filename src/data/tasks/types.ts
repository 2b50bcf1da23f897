/** Shared types of the synthetic verifiable task families (issue 5; paper §5.1 RL data). */
import type { Domain } from "../../model/domains.ts";
import type { Rng } from "../../util/rng.ts";
import type { RgbImage } from "./raster.ts";

export type { RgbImage } from "./raster.ts";

/** The task families, one generator file each. */
export const TASK_FAMILIES = ["counting", "ocr", "chart", "math", "grounding", "gui"] as const;
export type TaskFamily = (typeof TASK_FAMILIES)[number];

/** Training items and held-out evaluation items; the two never share an item. */
export const SPLITS = ["train", "heldout"] as const;
export type Split = (typeof SPLITS)[number];

/** Default square image side: 56 px = 4 × 4 patches of 14 → 4 image tokens after the 2 × 2 merge. */
export const DEFAULT_IMAGE_SIZE = 56;
/** Smallest side the layouts still fit (2 × 2 patches of 14). */
export const MIN_IMAGE_SIZE = 28;

/**
 * Every character a question, CoT or answer may use. The tiny tokenizer is character-level, so the
 * text side stays inside this small set (lowercase ASCII, digits, space, a few punctuation marks).
 */
export const TEXT_CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789 ?.,:+-*=[]";

/** One synthetic item: an image, a short question, the verifier's gold answer and a templated CoT. */
export type TaskItem = {
  /** Unique and stable: `<split>-<family>-<index>`. */
  id: string;
  family: TaskFamily;
  /** The reward domain whose verifier checks the answer. */
  domain: Domain;
  /** Difficulty level, 1 = easiest. */
  level: number;
  split: Split;
  /** The seed the item was rendered from (reproduces it with the same family, level and class). */
  seed: number;
  image: RgbImage;
  question: string;
  /** Gold answer for the verifier of `domain` (for `gui`: the target's box `[x1,y1,x2,y2]` in 0–999). */
  answer: string;
  /**
   * What a correct response puts in its answer box. Equal to `answer` except for `gui`, where the
   * response clicks a point `[x,y]` and the verifier checks it lies inside the gold box.
   */
  responseAnswer: string;
  options?: string[] | undefined;
  /** Short templated reasoning, derived only from what the image shows. */
  cot: string;
};

/** What a family generator renders; the suite adds identity, split, seed and level. */
export type TaskContent = Pick<
  TaskItem,
  "image" | "question" | "answer" | "responseAnswer" | "options" | "cot"
>;

/** What the suite asks a generator for: a level, the answer class to hit (for balance) and the image size. */
export type GenerateRequest = { level: number; answerClass: string; size: number };

/**
 * A task family: its levels, the answer classes each level balances over, and a pure renderer.
 * `generate` must draw all randomness from `rng` and produce an item whose answer is of class `answerClass`.
 */
export type TaskGenerator = {
  family: TaskFamily;
  domain: Domain;
  levels: readonly number[];
  answerClasses(level: number): readonly string[];
  generate(rng: Rng, request: GenerateRequest): TaskContent;
};
