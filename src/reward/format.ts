/**
 * glmv's format gate (design.md "The reward system"): one gate for both response styles, stricter and more
 * informative than the official `check_answer_format`, and linear in the response length.
 *
 * - 4.1v: `<think>…</think>` then `<answer>…</answer>` and nothing after; exactly one box inside the answer.
 * - 4.5v: `<think>…</think>` then the answer text with exactly one box; no `<answer>` tags. GLM-4.6V writes the
 *   same shape (one template family, vLLM/SGLang's glm45 parsers), so it is scored as 4.5v. With thinking off, both
 *   pre-fill an empty `<think></think>` in the prompt, so the completion holds none: `thinking: false` gates such a
 *   completion with that pre-fill put back (`prefillEmptyThink`); one that writes its own think block is gated as is.
 * Boxes are `<|begin_of_box|>…<|end_of_box|>` or balanced `\boxed{…}`, counted together at every depth.
 */

import type { ResponseStyle } from "../model/domains.ts";
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import type { BoxSpan } from "./extract.ts";
import { indexOfTag, scanBoxedSpans, scanTokenSpans } from "./extract.ts";
import type { FormatFailure, FormatStatus } from "./types.ts";

/** What the gate found: the verdict, the box content (only when ok), and the parts it could locate. */
export type GateResult = {
  format: FormatStatus;
  /** The single box's content, trimmed, when `format` is "ok"; else null. */
  extracted: string | null;
  /** The think content (between the tags) when a closed think block was found; else null. */
  think: string | null;
  /** Where the answer was looked for: the `<answer>` content (4.1v) or all text after `</think>` (4.5v). */
  answerRegion: string | null;
};

/** Options of `gateResponse`. */
export type GateOptions = {
  /** Longest accepted box content in characters (a box holding an essay is not an answer). */
  maxBoxChars?: number;
  /**
   * The run's thinking switch (default true). False: the prompt pre-filled an empty `<think></think>` (GLM-4.5V /
   * 4.6V non-thinking mode), so a completion without any think tag is gated as if it started with it.
   */
  thinking?: boolean;
};

const DEFAULT_MAX_BOX_CHARS = 1000;

/** Special tokens OpenRLHF leaves at the end of a response (`skip_special_tokens=False`). */
const STOP_TOKENS = [SPECIAL_TOKENS.endOfText, SPECIAL_TOKENS.user, SPECIAL_TOKENS.observation] as const;

const {
  thinkStart: THINK_OPEN,
  thinkEnd: THINK_CLOSE,
  answerStart: ANSWER_OPEN,
  answerEnd: ANSWER_CLOSE,
} = SPECIAL_TOKENS;

/**
 * Trim whitespace and any run of trailing stop tokens (with whitespace between them).
 * @example stripStopTokens(" x<|user|>\n<|endoftext|> ") // "x"
 */
export function stripStopTokens(response: string): string {
  let s = response.trim();
  for (let changed = true; changed; ) {
    changed = false;
    for (const tok of STOP_TOKENS) {
      if (s.endsWith(tok)) {
        s = s.slice(0, -tok.length).trimEnd();
        changed = true;
      }
    }
  }
  return s;
}

/**
 * A thinking-off completion as the model saw it: `<think></think>` put in front when the completion (stop tokens
 * aside) is not empty and holds neither think tag (in any case); otherwise the completion unchanged. A completion
 * that writes its own think block, or a stray tag, is left for the gate to judge as written.
 * @example prefillEmptyThink("So <|begin_of_box|>4<|end_of_box|>") // "<think></think>So <|begin_of_box|>4<|end_of_box|>"
 * @example prefillEmptyThink("<think>a</think>4") // "<think>a</think>4"
 */
export function prefillEmptyThink(response: string): string {
  if (stripStopTokens(response).length === 0) return response;
  if (indexOfTag(response, THINK_OPEN) !== -1 || indexOfTag(response, THINK_CLOSE) !== -1) return response;
  return `${THINK_OPEN}${THINK_CLOSE}${response}`;
}

/** Every box in a text (both kinds, all depths); never-closed openers are counted apart. */
function scanAllBoxes(text: string): { boxes: BoxSpan[]; unclosed: number } {
  const tokens = scanTokenSpans(text);
  const boxed = scanBoxedSpans(text);
  return { boxes: [...tokens.complete, ...boxed.complete], unclosed: tokens.unclosed + boxed.unclosed };
}

const fail = (format: FormatFailure, think: string | null, answerRegion: string | null): GateResult => ({
  format,
  extracted: null,
  think,
  answerRegion,
});

const hasText = (s: string): boolean => s.trim().length > 0;

/** The answer part of a 4.1v response: the `<answer>` content, or why there is none. */
function locateAnswer41(
  rest: string,
): { region: string } | { failure: FormatFailure; region: string | null } {
  const open = indexOfTag(rest, ANSWER_OPEN);
  if (open === -1) {
    return {
      failure: indexOfTag(rest, ANSWER_CLOSE) === -1 ? "missing_answer_tags" : "nested_tags",
      region: null,
    };
  }
  const before = rest.slice(0, open);
  if ([THINK_OPEN, THINK_CLOSE, ANSWER_CLOSE].some((t) => indexOfTag(before, t) !== -1)) {
    return { failure: "nested_tags", region: null };
  }
  const close = indexOfTag(rest, ANSWER_CLOSE, open + ANSWER_OPEN.length);
  const region = rest.slice(open + ANSWER_OPEN.length, close === -1 ? rest.length : close);
  if (close === -1) return { failure: "missing_answer_tags", region };
  const after = rest.slice(close + ANSWER_CLOSE.length);
  if ([THINK_OPEN, THINK_CLOSE, ANSWER_OPEN].some((t) => indexOfTag(region, t) !== -1)) {
    return { failure: "nested_tags", region };
  }
  if ([THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE].some((t) => indexOfTag(after, t) !== -1)) {
    return { failure: "nested_tags", region };
  }
  // A box outside the answer is the more useful diagnosis than stray text.
  const outside = before + after;
  if (hasText(outside) && scanAllBoxes(outside).boxes.length > 0)
    return { failure: "box_outside_answer", region };
  // Text between `</think>` and `<answer>` is an answer not wrapped in the tags.
  if (hasText(before)) return { failure: "missing_answer_tags", region };
  if (hasText(after)) return { failure: "text_after_answer", region };
  return { region };
}

/**
 * Check a response's shape for `style` and extract its one boxed answer.
 * Trailing stop tokens and surrounding whitespace are ignored. A think block cut mid-sentence by forced
 * answering (an injected `</think>`) is normal and passes. With `thinking: false`, a completion with no think tag
 * is gated after `prefillEmptyThink` (the empty think block its prompt ended with).
 * @example
 * gateResponse("<think>2+2</think><answer><|begin_of_box|>4<|end_of_box|></answer>", "4.1v")
 * // { format: "ok", extracted: "4", think: "2+2", answerRegion: "<|begin_of_box|>4<|end_of_box|>" }
 */
export function gateResponse(response: string, style: ResponseStyle, opts: GateOptions = {}): GateResult {
  const maxBoxChars = opts.maxBoxChars ?? DEFAULT_MAX_BOX_CHARS;
  const stripped = stripStopTokens(response);
  if (stripped.length === 0) return fail("empty_response", null, null);
  const text = opts.thinking === false ? prefillEmptyThink(stripped) : stripped;

  const open = indexOfTag(text, THINK_OPEN);
  if (open === -1) return fail("missing_think", null, null);
  if (open > 0) return fail("text_before_think", null, null);
  const close = indexOfTag(text, THINK_CLOSE, THINK_OPEN.length);
  if (close === -1) return fail("unclosed_think", null, null);

  const think = text.slice(THINK_OPEN.length, close);
  const rest = text.slice(close + THINK_CLOSE.length);
  if ([THINK_OPEN, ANSWER_OPEN, ANSWER_CLOSE].some((t) => indexOfTag(think, t) !== -1)) {
    return fail("nested_tags", think, null);
  }

  let region: string;
  if (style === "4.1v") {
    const located = locateAnswer41(rest);
    if ("failure" in located) return fail(located.failure, think, located.region);
    region = located.region;
  } else {
    region = rest;
    if (indexOfTag(rest, ANSWER_OPEN) !== -1 || indexOfTag(rest, ANSWER_CLOSE) !== -1) {
      return fail("unexpected_answer_tags", think, region);
    }
    if (indexOfTag(rest, THINK_OPEN) !== -1 || indexOfTag(rest, THINK_CLOSE) !== -1) {
      return fail("nested_tags", think, region);
    }
  }

  const { boxes, unclosed } = scanAllBoxes(region);
  if (boxes.length === 0) {
    if (unclosed > 1) return fail("multiple_boxes", think, region);
    return fail(scanAllBoxes(think).boxes.length > 0 ? "box_in_think_only" : "no_box", think, region);
  }
  // A half-written second box still means the model offered more than one answer.
  if (boxes.length + unclosed > 1) return fail("multiple_boxes", think, region);
  const box = boxes[0]!;
  const content = region.slice(box.contentStart, box.contentEnd).trim();
  if (content.length === 0) return fail("empty_box", think, region);
  if (content.length > maxBoxChars) return fail("box_too_long", think, region);
  return { format: "ok", extracted: content, think, answerRegion: region };
}
