/**
 * Box extraction and the official GLM-4.1V format checks (reward-spec-official.md §1.1, §1.2).
 * Everything here is a single forward scan: linear in the input, and it never throws on any string.
 * glmv's own, stricter gate lives in `format.ts`; this file keeps the official semantics for parity.
 */
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";

const { beginBox: BEGIN_OF_BOX, endBox: END_OF_BOX } = SPECIAL_TOKENS;
const BOXED_OPEN = "\\boxed{";

/** Where one box sits in a text: its content is `text.slice(contentStart, contentEnd)`. */
export type BoxSpan = { kind: "token" | "boxed"; start: number; contentStart: number; contentEnd: number };

/** Every box a scan found: complete ones (all nesting depths) and openers that never closed. */
export type BoxScan = { complete: BoxSpan[]; unclosed: number };

/**
 * All `\boxed{…}` with balanced braces, at every nesting depth, in order of their opening.
 * One pass with a stack of open braces: a `}` closes the innermost open `{`; a stray `}` is ignored.
 * @example scanBoxedSpans("\\boxed{\\boxed{1}} \\boxed{").complete.length // 2 (unclosed: 1)
 */
export function scanBoxedSpans(text: string): BoxScan {
  const complete: BoxSpan[] = [];
  // Each open brace: its index, and whether it opened a `\boxed{`.
  const stack: { at: number; boxed: boolean }[] = [];
  // Cache the next of each brace so each one is searched for once: the scan stays linear.
  let nextOpen = text.indexOf("{");
  let nextClose = text.indexOf("}");
  while (nextOpen !== -1 || nextClose !== -1) {
    if (nextOpen !== -1 && (nextClose === -1 || nextOpen < nextClose)) {
      const boxed = nextOpen >= 6 && text.startsWith("\\boxed", nextOpen - 6);
      stack.push({ at: nextOpen, boxed });
      nextOpen = text.indexOf("{", nextOpen + 1);
      continue;
    }
    const top = stack.pop();
    if (top?.boxed) {
      complete.push({ kind: "boxed", start: top.at - 6, contentStart: top.at + 1, contentEnd: nextClose });
    }
    nextClose = text.indexOf("}", nextClose + 1);
  }
  const unclosed = stack.filter((b) => b.boxed).length;
  complete.sort((a, b) => a.start - b.start);
  return { complete, unclosed };
}

/**
 * All `<|begin_of_box|>…<|end_of_box|>` pairs, paired with a stack, at every depth, with the depth at which
 * each one closed (0 = outermost). An end token with no open begin is ignored.
 */
function scanTokenPairs(text: string): { pairs: (BoxSpan & { depth: number })[]; unclosed: number } {
  const pairs: (BoxSpan & { depth: number })[] = [];
  const stack: number[] = [];
  let nextBegin = text.indexOf(BEGIN_OF_BOX);
  let nextEnd = text.indexOf(END_OF_BOX);
  while (nextBegin !== -1 || nextEnd !== -1) {
    if (nextBegin !== -1 && (nextEnd === -1 || nextBegin < nextEnd)) {
      stack.push(nextBegin);
      nextBegin = text.indexOf(BEGIN_OF_BOX, nextBegin + BEGIN_OF_BOX.length);
      continue;
    }
    const begin = stack.pop();
    if (begin !== undefined) {
      pairs.push({
        kind: "token",
        start: begin,
        contentStart: begin + BEGIN_OF_BOX.length,
        contentEnd: nextEnd,
        depth: stack.length,
      });
    }
    nextEnd = text.indexOf(END_OF_BOX, nextEnd + END_OF_BOX.length);
  }
  pairs.sort((a, b) => a.start - b.start);
  return { pairs, unclosed: stack.length };
}

/**
 * All box-token pairs at every depth, plus the number of begin tokens that never closed.
 * @example scanTokenSpans("<|begin_of_box|>a<|end_of_box|><|begin_of_box|>").unclosed // 1
 */
export function scanTokenSpans(text: string): BoxScan {
  const { pairs, unclosed } = scanTokenPairs(text);
  return { complete: pairs.map(({ depth: _depth, ...span }) => span), unclosed };
}

/** Keep only spans not inside an earlier kept span (spans sorted by start). */
function outermost(spans: BoxSpan[]): BoxSpan[] {
  const kept: BoxSpan[] = [];
  let keptEnd = -1;
  for (const s of spans) {
    if (s.start < keptEnd) continue;
    kept.push(s);
    keptEnd = s.contentEnd;
  }
  return kept;
}

/**
 * The official `find_boxed_content`: if any balanced `\boxed{…}` exists, the top-level boxed contents
 * (inner `\boxed{}` kept literally) and nothing else; otherwise the contents of the outermost
 * `<|begin_of_box|>…<|end_of_box|>` pairs (inner tokens kept). An unmatched begin gives nothing, a stray
 * end is ignored, and a pair nested in a never-closed begin gives nothing. Contents are trimmed.
 * Deviation, on purpose: an unclosed `\boxed{` is not a box (the release returned the rest of the text).
 * @example findBoxes("\\boxed{\\frac{1}{2}} <|begin_of_box|>3<|end_of_box|>") // ["\\frac{1}{2}"]
 */
export function findBoxes(text: string): string[] {
  const boxed = outermost(scanBoxedSpans(text).complete);
  if (boxed.length > 0) return boxed.map((s) => text.slice(s.contentStart, s.contentEnd).trim());
  return scanTokenPairs(text)
    .pairs.filter((p) => p.depth === 0)
    .map((p) => text.slice(p.contentStart, p.contentEnd).trim());
}

const {
  thinkStart: THINK_OPEN,
  thinkEnd: THINK_CLOSE,
  answerStart: ANSWER_OPEN,
  answerEnd: ANSWER_CLOSE,
} = SPECIAL_TOKENS;
const ALL_TAGS = [THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE] as const;

/**
 * Case-insensitive search for an ASCII tag (the official patterns use `re.IGNORECASE`); -1 when absent.
 * @example indexOfTag("a</THINK>", "</think>") // 1
 */
export function indexOfTag(text: string, tag: string, from = 0): number {
  const re = new RegExp(tag.replace(/[|\\/]/g, "\\$&"), "gi");
  re.lastIndex = from;
  return re.exec(text)?.index ?? -1;
}

function containsAnyTag(text: string, tags: readonly string[]): boolean {
  return tags.some((t) => indexOfTag(text, t) !== -1);
}

/** Whether `text` (from `at`) starts with `tag`, ignoring ASCII case. */
function startsWithTag(text: string, tag: string, at = 0): boolean {
  return text.slice(at, at + tag.length).toLowerCase() === tag;
}

/** Python's `$` also matches before one final newline. */
function endOfPython(text: string): number {
  return text.endsWith("\n") ? text.length - 1 : text.length;
}

/** Split by the official P1 pattern `^<think>(.*?)</think>\s*<answer>(.*?)</answer>$`; null when it does not match. */
function splitP1(response: string): { think: string; answer: string } | null {
  if (!startsWithTag(response, THINK_OPEN)) return null;
  const close = indexOfTag(response, THINK_CLOSE, THINK_OPEN.length);
  if (close === -1) return null;
  // A later `</think>` could also satisfy the lazy group, but then the think part holds `</think>` and every
  // caller rejects it, so the first one decides the outcome.
  let i = close + THINK_CLOSE.length;
  while (i < response.length && /\s/.test(response[i]!)) i++;
  if (!startsWithTag(response, ANSWER_OPEN, i)) return null;
  const end = endOfPython(response);
  const answerStart = i + ANSWER_OPEN.length;
  if (end - ANSWER_CLOSE.length < answerStart) return null;
  if (!startsWithTag(response, ANSWER_CLOSE, end - ANSWER_CLOSE.length)) return null;
  return {
    think: response.slice(THINK_OPEN.length, close),
    answer: response.slice(answerStart, end - ANSWER_CLOSE.length),
  };
}

/** Split by the official P2 pattern `^<think>(.*?)</think>(.*)$`; null when it does not match. */
function splitP2(response: string): { think: string; answer: string } | null {
  if (!startsWithTag(response, THINK_OPEN)) return null;
  const close = indexOfTag(response, THINK_CLOSE, THINK_OPEN.length);
  if (close === -1) return null;
  return {
    think: response.slice(THINK_OPEN.length, close),
    answer: response.slice(close + THINK_CLOSE.length),
  };
}

function count(text: string, token: string): number {
  let n = 0;
  for (let i = text.indexOf(token); i !== -1; i = text.indexOf(token, i + token.length)) n++;
  return n;
}

/**
 * The official GLM-4.1V whole-response gate `check_answer_format`: the whole string is
 * `<think>…</think>\s*<answer>…</answer>`; inside the answer at most one begin and one end box token and no
 * `\boxed{`; no think/answer tag nested in either part. Empty think and answer pass.
 * @example checkOfficialFormat("<think>r</think><answer><|begin_of_box|>42<|end_of_box|></answer>") // true
 */
export function checkOfficialFormat(response: string): boolean {
  const parts = splitP1(response);
  if (!parts) return false;
  const { think, answer } = parts;
  if (count(answer, BEGIN_OF_BOX) > 1 || count(answer, END_OF_BOX) > 1) return false;
  if (answer.includes(BOXED_OPEN)) return false;
  return !containsAnyTag(think, ALL_TAGS) && !containsAnyTag(answer, ALL_TAGS);
}

/**
 * Official think/answer patterns of the released verifiers (§1.2):
 * - `p1`: `<think>…</think>\s*<answer>…</answer>`, no tag in either part (math, physics, chemistry, vqa);
 * - `p2a`: `<think>…</think>` then the answer, no tag in either part (chart, counting);
 * - `p2b`: the same split, only `<think>`/`</think>` banned in the think part (ocr, mmsi, multi_image, geoquest).
 */
export type OfficialPattern = "p1" | "p2a" | "p2b";

/**
 * The official per-verifier extraction: split by the pattern, reject nested tags, strip the answer part,
 * then exactly one box (by `find_boxed_content`) or null.
 * @example extractOfficial("<think>t</think><|begin_of_box|>3<|end_of_box|>", "p2a") // "3"
 */
export function extractOfficial(response: string, pattern: OfficialPattern): string | null {
  const parts = pattern === "p1" ? splitP1(response) : splitP2(response);
  if (!parts) return null;
  const think = parts.think.trim();
  const answer = parts.answer.trim();
  const banned = pattern === "p2b" ? [THINK_OPEN, THINK_CLOSE] : ALL_TAGS;
  if (containsAnyTag(think, banned)) return null;
  if (pattern !== "p2b" && containsAnyTag(answer, ALL_TAGS)) return null;
  if (answer.length === 0) return null;
  const boxes = findBoxes(answer);
  return boxes.length === 1 ? boxes[0]!.trim() : null;
}

/**
 * GLM-4.5/4.6 tool-call markup (GLM-4.6V's native function calling; vLLM/SGLang `--tool-call-parser glm45`):
 * `<tool_call>name\n<arg_key>k</arg_key>\n<arg_value>v</arg_value>…</tool_call>`. Added tokens of the GLM-4.5
 * tokenizer, not GLM-V special tokens, so they are spelled here.
 */
export const TOOL_CALL_TAGS = {
  open: "<tool_call>",
  close: "</tool_call>",
  argKeyOpen: "<arg_key>",
  argKeyClose: "</arg_key>",
  argValueOpen: "<arg_value>",
  argValueClose: "</arg_value>",
} as const;

/** Where one `<tool_call>…</tool_call>` sits: its content is `text.slice(contentStart, contentEnd)`. */
export type ToolCallSpan = { start: number; contentStart: number; contentEnd: number; end: number };

/**
 * Every `<tool_call>…</tool_call>` in order (calls do not nest: a call opened inside another one is part of its
 * content), plus whether a last call was opened and never closed. One forward scan; never throws.
 * @example scanToolCallSpans("<tool_call>f</tool_call><tool_call>g").unclosed // true (complete: 1)
 */
export function scanToolCallSpans(text: string): { complete: ToolCallSpan[]; unclosed: boolean } {
  const { open, close } = TOOL_CALL_TAGS;
  const complete: ToolCallSpan[] = [];
  for (let at = text.indexOf(open); at !== -1; ) {
    const contentStart = at + open.length;
    const end = text.indexOf(close, contentStart);
    if (end === -1) return { complete, unclosed: true };
    complete.push({ start: at, contentStart, contentEnd: end, end: end + close.length });
    at = text.indexOf(open, end + close.length);
  }
  return { complete, unclosed: false };
}
