/**
 * The reward system for one item (§5.2, design.md "The reward system"): validate → resolve the response style →
 * format gate (or the item's `answerFormat`) → anti-hacking → the domain's verifier → style penalties. Pure and
 * synchronous; the pool runs it in workers under a deadline. Any failure is reward 0 with the stage and reason that
 * decided it (a throw inside the reward code is stage "verifier_error"); only an item that is not a scoring item at
 * all throws.
 */

import type { Domain, ResponseStyle } from "../model/domains.ts";
import { extractAnswer } from "./answer-formats.ts";
import { detectHacking } from "./antihack.ts";
import { MAX_DETECTION_CHARS } from "./detection-parse.ts";
import { gateResponse } from "./format.ts";
import { assertScoreInput } from "./item-schema.ts";
import { VERIFIERS } from "./registry.ts";
import { stylePenalties } from "./style.ts";
import { extractToolCalls, type ToolCallExtraction, verifyToolCall } from "./tool-calls.ts";
import type { RewardItem, RewardResult, Verifier, VerifyContext } from "./types.ts";

/**
 * An item to score: a `RewardItem` plus `verifiable`. `verifiable: false` marks open-ended data (no single
 * checkable answer): there the answer must NOT be boxed (a box is "spurious boxing", reward 0, §5.2), and the
 * text after the reasoning is compared with the reference by the domain's verifier. Absent means verifiable.
 */
export type ScoreInput = RewardItem & { verifiable?: boolean | undefined };

/** Which step decided the result (kept in the output so a zero can be traced). */
export type ScoreStage =
  | "format"
  | "hacking"
  | "verify"
  | "penalty"
  | "spurious_box"
  | "timeout"
  | "crash"
  // The reward code threw (a verifier bug, not a wrong answer): counted apart so a broken domain shows up.
  | "verifier_error"
  // An LLM judge was needed but could not decide (`judgeError` says why); the verifier's score stands.
  | "judge_error";

/** A `RewardResult` with the deciding stage. */
export type ScoredResult = RewardResult & { stage: ScoreStage };

export type ScoreOptions = {
  /** The run's response style; an item's own `style` wins. Default "4.1v". */
  style?: ResponseStyle | undefined;
  /** Cap on boxed content length, passed to the format gate (long boxes are a hedging vector). */
  maxBoxChars?: number | undefined;
  /**
   * The run's thinking switch, passed to the format gate; default true. False (GLM-4.5V/4.6V non-thinking mode, whose
   * prompt pre-fills an empty `<think></think>`): a response without a think block is gated as if it had that one.
   */
  thinking?: boolean | undefined;
  /** Verifier table; defaults to `VERIFIERS`. Tests swap single domains through the pool's extra module. */
  verifiers?: Record<Domain, Verifier> | undefined;
};

/** Box markers of either convention; any of them in a non-verifiable response is spurious boxing. */
const BOX_MARKER = /<\|begin_of_box\|>|<\|end_of_box\|>|\\boxed\s*\{/;

function zero(stage: ScoreStage, format: RewardResult["format"], extracted: string | null, reason: string) {
  return {
    reward: 0,
    correct: false,
    format,
    extracted,
    timedOut: false,
    reason,
    stage,
  } satisfies ScoredResult;
}

/**
 * The context the orchestrator hands every verifier, built from the item in one place (the verifier contract test
 * builds it through here, so a field added here is a field every verifier is tested with).
 */
export function verifierContext(item: ScoreInput): VerifyContext {
  return {
    question: item.question,
    options: item.options,
    precision: item.precision,
    // Grounding / detection: box frames, image size, reward mode, IoU threshold (verifiers/detection.ts).
    coords: item.coords,
    goldCoords: item.goldCoords,
    imageSize: item.imageSize,
    boxReward: item.boxReward,
    iouThreshold: item.iouThreshold,
  };
}

/** Clamp a verifier's score into [0, 1]; NaN is 0. */
function clampScore(score: number): number {
  return Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
}

/** Run the verifier, then the style penalties (only worth checking when there is something to take away). */
function verifyAndPenalise(
  item: ScoreInput,
  pred: string,
  format: RewardResult["format"],
  extracted: string | null,
  verifier: Verifier | undefined,
): ScoredResult {
  if (verifier === undefined)
    return zero("verifier_error", format, extracted, `no verifier for domain '${item.domain}'`);
  const verdict = verifier(pred, item.answer, verifierContext(item));
  const reward = clampScore(verdict.score);
  if (reward > 0 || verdict.correct) {
    const penalties = stylePenalties(item.response);
    if (penalties.length > 0) {
      return { ...zero("penalty", format, extracted, `style penalty: ${penalties.join(", ")}`), penalties };
    }
  }
  return {
    reward,
    correct: verdict.correct,
    format,
    extracted,
    timedOut: false,
    reason: verdict.reason,
    stage: "verify",
  };
}

const TOOL_CALL_NOT_AN_ANSWER =
  "format: tool_call (a tool call is not an answer; an item whose answer is a call sets expectsToolCall)";

/** An item whose answer is a tool call: the response's calls against the reference calls. */
function scoreToolCallAnswer(item: ScoreInput, calls: ToolCallExtraction): ScoredResult {
  if (calls.format !== "ok" || calls.extracted === null)
    return zero("format", calls.format, null, `format: ${calls.format} (${calls.reason})`);
  return verifyAndPenalise(item, calls.extracted, "ok", calls.extracted, verifyToolCall);
}

/** Open-ended item: no box allowed; the answer text itself is compared with the reference. */
function scoreNonVerifiable(item: ScoreInput, style: ResponseStyle, opts: ScoreOptions): ScoredResult {
  const gate = gateResponse(item.response, style, { maxBoxChars: opts.maxBoxChars, thinking: opts.thinking });
  if (BOX_MARKER.test(item.response)) {
    return {
      ...zero("spurious_box", gate.format, gate.extracted, "boxed answer on a non-verifiable item"),
      penalties: ["spurious_box"],
    };
  }
  if (gate.format !== "ok" && gate.format !== "no_box")
    return zero("format", gate.format, null, `format: ${gate.format}`);
  const answer = gate.answerRegion?.trim() ?? "";
  if (answer.length === 0) return zero("format", "ok", null, "empty answer");
  return verifyAndPenalise(item, answer, "ok", answer, (opts.verifiers ?? VERIFIERS)[item.domain]);
}

/**
 * Score one item. Throws a `bad_input` `GlmvError` (naming the field, `item.response`) when the item does not match
 * `ScoreInputSchema`; otherwise never throws: a verifier that throws is a recorded zero.
 * @example
 * scoreItem({ id: 1, domain: "math", answer: "0.5",
 *   response: "<think>half</think><answer><|begin_of_box|>1/2<|end_of_box|></answer>" }, { style: "4.1v" })
 * // { reward: 1, correct: true, format: "ok", extracted: "1/2", timedOut: false, stage: "verify", … }
 */
export function scoreItem(item: ScoreInput, opts: ScoreOptions = {}): ScoredResult {
  assertScoreInput(item, "item");
  return scoreValidItem(item, opts);
}

/**
 * `scoreItem` for an item already checked against `ScoreInputSchema` (the pool validates before it posts to a
 * worker, so the worker does not parse each item a second time). Library callers use `scoreItem`.
 */
export function scoreValidItem(item: ScoreInput, opts: ScoreOptions = {}): ScoredResult {
  const style = item.style ?? opts.style ?? "4.1v";
  try {
    // GLM-4.6V calls tools natively; a call is an answer only where the item says so (`tool-calls.ts`).
    const toolCalls = extractToolCalls(item.response);
    if (item.expectsToolCall === true) return scoreToolCallAnswer(item, toolCalls);
    if (toolCalls.found > 0) return zero("format", "tool_call", null, TOOL_CALL_NOT_AN_ANSWER);
    if (item.verifiable === false) return scoreNonVerifiable(item, style, opts);
    const gate = extractAnswer(item.response, item.answerFormat ?? "glmv", style, {
      // A detection answer lists up to 100 objects; extra boxes cost in its verifier, not at the gate.
      maxBoxChars: opts.maxBoxChars ?? (item.domain === "grounding" ? MAX_DETECTION_CHARS : undefined),
      thinking: opts.thinking,
    });
    if (gate.format !== "ok" || gate.extracted === null) {
      return zero("format", gate.format, gate.extracted, `format: ${gate.format}`);
    }
    const hack = detectHacking(gate.extracted, item.answer, item.domain);
    if (hack !== null) return zero("hacking", gate.format, gate.extracted, `hacking: ${hack}`);
    const verifier = (opts.verifiers ?? VERIFIERS)[item.domain];
    return verifyAndPenalise(item, gate.extracted, gate.format, gate.extracted, verifier);
  } catch (e) {
    return zero(
      "verifier_error",
      "ok",
      null,
      `verifier error: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
