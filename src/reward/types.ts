/** Shared types of the reward system (§5.2, Table 1); domains and response styles are in `model/domains.ts`. */
import type { Domain, ResponseStyle } from "../model/domains.ts";

/**
 * Where the final answer sits in a response (`answer-formats.ts`): "glmv" is the GLM-V gate (think, then one box);
 * "gsm8k" is the text after the last `####` (GSM8K's own label format); "boxed" is an optional think block, then
 * text whose last `\boxed{…}` is the answer (verl's geometry3k recipe). Chosen per item, never guessed.
 */
export const ANSWER_FORMATS = ["glmv", "gsm8k", "boxed"] as const;
export type AnswerFormat = (typeof ANSWER_FORMATS)[number];

/** Why a response failed the format gate. */
export type FormatFailure =
  | "empty_response"
  | "missing_think"
  | "unclosed_think"
  | "nested_tags"
  | "missing_answer_tags"
  | "unexpected_answer_tags"
  | "text_before_think"
  | "text_after_answer"
  | "no_box"
  | "multiple_boxes"
  | "box_outside_answer"
  | "box_in_think_only"
  | "legacy_boxed"
  | "empty_box"
  | "box_too_long"
  // Answer formats other than the GLM-V gate (see `answer-formats.ts`).
  | "missing_answer_marker"
  | "multiple_answers"
  | "empty_answer"
  | "answer_too_long";
export type FormatStatus = "ok" | FormatFailure;

/** Extra context a verifier may use (question text, options of a multiple-choice item). */
export type VerifyContext = {
  question?: string | undefined;
  /** Options of a multiple-choice item, in letter order (A, B, C, …), or as a letter → text map. */
  options?: string[] | Record<string, string> | undefined;
};

/**
 * What a verifier returns: a score in [0, 1], whether it counts as correct, and why.
 * Verifiers never throw on bad answers: an unparseable answer is score 0 with a reason.
 */
export type VerifyResult = {
  score: number;
  correct: boolean;
  reason: string;
};

/** A verifier compares one extracted answer with the ground truth of its domain. */
export type Verifier = (pred: string, gold: string, ctx: VerifyContext) => VerifyResult;

/** One item to score (a line of `glmv reward score --in`). */
export type RewardItem = {
  id: string | number;
  domain: Domain;
  response: string;
  answer: string;
  question?: string | undefined;
  options?: string[] | Record<string, string> | undefined;
  style?: ResponseStyle | undefined;
  /** Where the answer sits in the response; default "glmv" (the GLM-V format gate). */
  answerFormat?: AnswerFormat | undefined;
};

/** The result of scoring one item (merged into the input line in `--out`). */
export type RewardResult = {
  reward: number;
  correct: boolean;
  format: FormatStatus;
  extracted: string | null;
  timedOut: boolean;
  /** The verifier's or the anti-hacking check's explanation. */
  reason?: string | undefined;
  /** Style penalties that zeroed the reward (repetition, language mix, …). */
  penalties?: string[] | undefined;
  /** Set when an LLM judge was needed but could not decide (unreachable, 5xx, unparsable reply): why. */
  judgeError?: string | undefined;
};
