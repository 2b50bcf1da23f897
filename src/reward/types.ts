/** Shared types of the reward system (§5.2, Table 1); domains and response styles are in `model/domains.ts`. */
import type { Domain, ResponseStyle } from "../model/domains.ts";
import type { ItemPrecision } from "./math-forms/precision.ts";

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
  | "answer_too_long"
  // Tool calls (GLM-4.6V): a call where an answer was due, or no readable call where the item expects one.
  | "tool_call"
  | "missing_tool_call";
export type FormatStatus = "ok" | FormatFailure;

/** Coordinate frames of a box: GLM's integer thousandths 0–999 of the image, or pixels of an image `imageSize`. */
export const BOX_COORDS = ["0-999", "pixel"] as const;
export type BoxCoords = (typeof BOX_COORDS)[number];
/**
 * How boxes are rewarded (`verifiers/detection.ts`): "iou" is the summed IoU over max(#pred, #gold); "threshold" is
 * the IoU of the boxes found at one IoU threshold times a completeness term; "coco" averages "threshold" over
 * 0.50:0.05:0.95.
 */
export const BOX_REWARDS = ["iou", "threshold", "coco"] as const;
export type BoxReward = (typeof BOX_REWARDS)[number];
/** Width and height in pixels of the image an item's pixel boxes refer to. */
export type ImageSize = { width: number; height: number };

/** The optional fields of a grounding / detection item, passed to its verifier unchanged. */
export type BoxFields = {
  /** The frame of the response's boxes; default "0-999". */
  coords?: BoxCoords | undefined;
  /** The frame of the gold boxes; default `coords`. */
  goldCoords?: BoxCoords | undefined;
  /** Needed when either frame is "pixel". */
  imageSize?: ImageSize | undefined;
  /** Default "iou", or "threshold" when a threshold is set. */
  boxReward?: BoxReward | undefined;
  /** The IoU threshold of "threshold" (default 0.5); an RL run's schedule sets it per step (`iouThresholdAt`). */
  iouThreshold?: number | undefined;
};

/** Extra context a verifier may use (question text, options of a multiple-choice item, box fields). */
export type VerifyContext = BoxFields & {
  question?: string | undefined;
  /** Options of a multiple-choice item, in letter order (A, B, C, …), or as a letter → text map. */
  options?: string[] | Record<string, string> | undefined;
  /** The item's own numeric rule (decimal places, significant figures or a tolerance); absent: the verifier's. */
  precision?: ItemPrecision | null | undefined;
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
  /** Math, physics, chemistry: the item's own numeric rule (`math-forms/precision.ts`); null or absent: the default. */
  precision?: ItemPrecision | null | undefined;
  /**
   * The answer is a tool call (GLM-4.6V function calling): `answer` holds the expected call(s), in GLM markup or
   * JSON (`tool-calls.ts`). Absent or false: a tool call in the response is not an answer (format "tool_call").
   */
  expectsToolCall?: boolean | undefined;
} & BoxFields;

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
