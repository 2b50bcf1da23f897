/**
 * GLM-aware answer extraction (glmv issue 18): GLM's markers are read from the raw response before anything
 * strips special tokens. Thinking is cut out first, so a thinking block never reaches a scorer; then the
 * `<answer>…</answer>` region, then (scope "box") its first `<|begin_of_box|>…<|end_of_box|>`.
 * A response without GLM markers goes to the benchmark's official parser unchanged (mode `auto`).
 */
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { scanTokenSpans } from "../reward/extract.ts";
import type { ExtractMode } from "./types.ts";

const {
  thinkStart: THINK_OPEN,
  thinkEnd: THINK_CLOSE,
  answerStart: ANSWER_OPEN,
  answerEnd: ANSWER_CLOSE,
  beginBox: BEGIN_BOX,
  endBox: END_BOX,
} = SPECIAL_TOKENS;

/** The markers whose presence makes `auto` parse a response the GLM way. */
const GLM_MARKERS = [THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE, BEGIN_BOX, END_BOX] as const;

/** What a scorer gets (`answer`), the thinking kept for the report, and whether GLM parsing was applied. */
export type Extraction = { answer: string; thinking: string; glm: boolean };

/**
 * The text an official parser sees for `response`.
 * - `official`: the response unchanged;
 * - `glm`: GLM parsing (thinking cut out; the `<answer>` region, else the text after the thinking; scope `box`
 *   takes the first complete box in it, else the whole region; leftover special tokens removed, trimmed);
 * - `auto`: `glm` when any GLM marker is present, else `official`.
 * @example extractAnswer("<think>2+2</think><answer>It is <|begin_of_box|>4<|end_of_box|></answer>", "auto", "box")
 * // { answer: "4", thinking: "2+2", glm: true }
 */
export function extractAnswer(response: string, mode: ExtractMode, scope: "box" | "whole"): Extraction {
  const useGlm = mode === "glm" || (mode === "auto" && GLM_MARKERS.some((m) => response.includes(m)));
  if (!useGlm) return { answer: response, thinking: "", glm: false };
  const { visible, thinking } = splitThinking(response);
  const region = answerRegion(visible);
  const answer = scope === "box" ? (firstBox(region) ?? region) : region;
  return { answer: stripSpecialTokens(answer).trim(), thinking: thinking.join("\n\n").trim(), glm: true };
}

/**
 * Cut every thinking block out of `text`. A `</think>` before any `<think>` closes a block whose opener the chat
 * template already sent (everything before it is thinking). An unclosed `<think>` runs to the next `<answer>`
 * (the model skipped `</think>`) or, with none, to the end: then nothing is left to answer with.
 */
function splitThinking(text: string): { visible: string; thinking: string[] } {
  const thinking: string[] = [];
  let visible = "";
  let at = 0;
  const firstOpen = text.indexOf(THINK_OPEN);
  const firstClose = text.indexOf(THINK_CLOSE);
  if (firstClose !== -1 && (firstOpen === -1 || firstClose < firstOpen)) {
    thinking.push(text.slice(0, firstClose));
    at = firstClose + THINK_CLOSE.length;
  }
  while (at <= text.length) {
    const open = text.indexOf(THINK_OPEN, at);
    if (open === -1) {
      visible += text.slice(at);
      break;
    }
    visible += text.slice(at, open);
    const bodyStart = open + THINK_OPEN.length;
    const close = text.indexOf(THINK_CLOSE, bodyStart);
    if (close !== -1) {
      thinking.push(text.slice(bodyStart, close));
      at = close + THINK_CLOSE.length;
      continue;
    }
    const answer = text.indexOf(ANSWER_OPEN, bodyStart);
    thinking.push(text.slice(bodyStart, answer === -1 ? text.length : answer));
    if (answer !== -1) visible += text.slice(answer);
    break;
  }
  return { visible, thinking };
}

/** The first `<answer>…</answer>` (to the end when it never closes), else the whole text. */
function answerRegion(visible: string): string {
  const open = visible.indexOf(ANSWER_OPEN);
  if (open === -1) return visible;
  const start = open + ANSWER_OPEN.length;
  const close = visible.indexOf(ANSWER_CLOSE, start);
  return visible.slice(start, close === -1 ? visible.length : close);
}

/** The content of the first complete box token pair (by where it opens), with the reward side's box scan. */
function firstBox(region: string): string | null {
  const first = scanTokenSpans(region).complete[0];
  return first ? region.slice(first.contentStart, first.contentEnd) : null;
}

const ALL_SPECIAL = Object.values(SPECIAL_TOKENS);

/**
 * Remove every GLM special token left in an answer (nested boxes, stray tags, `<|endoftext|>` and the like),
 * repeated until none is left: removing one may join the halves of another (`<thi<think>nk>`).
 */
function stripSpecialTokens(text: string): string {
  let out = text;
  for (let changed = true; changed; ) {
    changed = false;
    for (const token of ALL_SPECIAL) {
      if (!out.includes(token)) continue;
      out = out.split(token).join("");
      changed = true;
    }
  }
  return out;
}
