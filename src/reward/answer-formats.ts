/**
 * Answer formats other than the GLM-V gate, chosen per item (`answerFormat`), never guessed from the text: a
 * silent fallback from one format to another would let a response pick whichever reading suits it.
 *
 * - "gsm8k": GSM8K's label format. The answer is the rest of the line after the LAST `####`; markers that give
 *   different answers are a hedge (`multiple_answers`), none is `missing_answer_marker`, text on later lines is
 *   `text_after_answer`.
 * - "boxed": verl's geometry3k recipe, `<think>…</think> … \boxed{30}`. The think block is optional; the answer is
 *   the last box after it (`\boxed{…}` or box tokens); two boxes with different contents are `multiple_boxes`.
 *
 * Both skip a leading `<think>…</think>` (reasoning may hold drafts) and return what the format gate returns, so the
 * anti-hacking checks and the verifier run on the extracted answer exactly as for "glmv" items.
 */

import type { ResponseStyle } from "../model/domains.ts";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { indexOfTag, scanBoxedSpans, scanTokenSpans } from "./extract.ts";
import { type GateOptions, gateResponse, stripStopTokens } from "./format.ts";
import type { AnswerFormat, FormatFailure, FormatStatus } from "./types.ts";

/** What an extraction found: "ok" with the answer, or the failure; `answerRegion` is the text after the think. */
export type AnswerExtraction = {
  format: FormatStatus;
  extracted: string | null;
  answerRegion: string | null;
};

const DEFAULT_MAX_ANSWER_CHARS = 1000;
const { thinkStart: THINK_OPEN, thinkEnd: THINK_CLOSE } = SPECIAL_TOKENS;
const MARKER = "####";

const fail = (format: FormatFailure, answerRegion: string | null = null): AnswerExtraction => ({
  format,
  extracted: null,
  answerRegion,
});

/**
 * The text after an optional leading think block. A `</think>` without `<think>` means the prompt opened the
 * reasoning (some chat templates end with `<think>`).
 */
function afterThink(text: string): { region: string } | { failure: FormatFailure } {
  const open = indexOfTag(text, THINK_OPEN);
  const close = indexOfTag(text, THINK_CLOSE);
  if (open === -1 && close === -1) return { region: text };
  if (open > 0) return { failure: "text_before_think" };
  const end = open === -1 ? close : indexOfTag(text, THINK_CLOSE, THINK_OPEN.length);
  if (end === -1) return { failure: "unclosed_think" };
  const region = text.slice(end + THINK_CLOSE.length);
  if (indexOfTag(region, THINK_OPEN) !== -1 || indexOfTag(region, THINK_CLOSE) !== -1)
    return { failure: "nested_tags" };
  return { region };
}

/** Answers compare equal up to spacing and a closing full stop ("72." and "72" are one answer). */
const sameAnswer = (a: string, b: string): boolean => {
  const norm = (s: string) => s.replace(/\s+/g, " ").replace(/\.$/, "").trim();
  return norm(a) === norm(b);
};

/**
 * GSM8K: the answer is the rest of the line after the last `####`.
 * @example extractGsm8kAnswer("48/2 = 24, 48+24 = 72\n#### 72") // { format: "ok", extracted: "72", … }
 * @example extractGsm8kAnswer("#### 72\n#### 73").format // "multiple_answers"
 */
export function extractGsm8kAnswer(response: string, opts: GateOptions = {}): AnswerExtraction {
  const text = stripStopTokens(response);
  if (text.length === 0) return fail("empty_response");
  const split = afterThink(text);
  if ("failure" in split) return fail(split.failure);
  const region = split.region;
  // Each marker's answer runs to the next marker or the end of its line.
  const answers: string[] = [];
  let lastEnd = -1;
  for (let at = region.indexOf(MARKER); at !== -1; ) {
    while (region.startsWith("#", at + MARKER.length)) at++; // "#####" is one marker
    const start = at + MARKER.length;
    const next = region.indexOf(MARKER, start);
    const eol = region.indexOf("\n", start);
    const end = Math.min(next === -1 ? region.length : next, eol === -1 ? region.length : eol);
    answers.push(region.slice(start, end).trim());
    lastEnd = end;
    at = next;
  }
  if (answers.length === 0) return fail("missing_answer_marker", region);
  const answer = answers.at(-1)!;
  if (answers.some((a) => !sameAnswer(a, answer))) return fail("multiple_answers", region);
  if (region.slice(lastEnd).trim().length > 0) return fail("text_after_answer", region);
  // GSM8K answers are amounts: "#### $10" is 10 (a closing "$" would make it TeX math, left to the verifier).
  const amount =
    /^\$\s*(?=[-\d.])/.test(answer) && !answer.endsWith("$") ? answer.replace(/^\$\s*/, "") : answer;
  if (amount.length === 0) return fail("empty_answer", region);
  if (amount.length > (opts.maxBoxChars ?? DEFAULT_MAX_ANSWER_CHARS)) return fail("answer_too_long", region);
  return { format: "ok", extracted: amount, answerRegion: region };
}

/**
 * verl's geometry3k recipe: optional think, then text whose last box is the answer.
 * @example extractBoxedAnswer("<think>a+b=30</think> So \\boxed{30}.").extracted // "30"
 * @example extractBoxedAnswer("\\boxed{30} or \\boxed{60}").format // "multiple_boxes"
 */
export function extractBoxedAnswer(response: string, opts: GateOptions = {}): AnswerExtraction {
  const text = stripStopTokens(response);
  if (text.length === 0) return fail("empty_response");
  const split = afterThink(text);
  if ("failure" in split) return fail(split.failure);
  const region = split.region;
  const tokens = scanTokenSpans(region);
  const boxed = scanBoxedSpans(region);
  const boxes = [...tokens.complete, ...boxed.complete].sort((a, b) => a.start - b.start);
  const unclosed = tokens.unclosed + boxed.unclosed;
  if (boxes.length === 0) {
    if (unclosed > 1) return fail("multiple_boxes", region);
    const think = text.slice(0, text.length - region.length);
    const inThink = scanTokenSpans(think).complete.length + scanBoxedSpans(think).complete.length > 0;
    return fail(inThink ? "box_in_think_only" : "no_box", region);
  }
  const contents = boxes.map((b) => region.slice(b.contentStart, b.contentEnd).trim());
  const answer = contents.at(-1)!;
  // A half-written box after a complete one is still a second answer.
  if (unclosed > 0 || contents.some((c) => !sameAnswer(c, answer))) return fail("multiple_boxes", region);
  if (answer.length === 0) return fail("empty_box", region);
  if (answer.length > (opts.maxBoxChars ?? DEFAULT_MAX_ANSWER_CHARS)) return fail("box_too_long", region);
  return { format: "ok", extracted: answer, answerRegion: region };
}

/**
 * Extract the answer in the item's format; "glmv" is the GLM-V format gate for `style`.
 * @example extractAnswer("Natalia sold 72 clips.\n#### 72", "gsm8k", "4.1v").extracted // "72"
 */
export function extractAnswer(
  response: string,
  answerFormat: AnswerFormat,
  style: ResponseStyle,
  opts: GateOptions = {},
): AnswerExtraction {
  if (answerFormat === "gsm8k") return extractGsm8kAnswer(response, opts);
  if (answerFormat === "boxed") return extractBoxedAnswer(response, opts);
  const gate = gateResponse(response, style, opts);
  return { format: gate.format, extracted: gate.extracted, answerRegion: gate.answerRegion };
}
