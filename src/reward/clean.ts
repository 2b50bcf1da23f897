/**
 * User-facing answers from GLM-V responses (glmv issue 19 part 3). GLM-4.1V/4.5V/4.6V wrap the final answer in
 * `<|begin_of_box|>…<|end_of_box|>`; clients that show the text to people see those tokens leak through (GLM-V
 * #79/#133, Open-AutoGLM #59/#60, mlx-vlm #2225). `stripBoxTokens` removes only the box tokens; `cleanAnswer`
 * also drops the reasoning, the 4.1V `<answer>` tags and trailing stop tokens. Both are linear scans that never
 * throw; neither changes what the reward system scores.
 */
import { SPECIAL_TOKENS } from "../model/special-tokens.ts";
import { indexOfTag } from "./extract.ts";
import { stripStopTokens } from "./format.ts";

const {
  beginBox: BEGIN_OF_BOX,
  endBox: END_OF_BOX,
  thinkStart: THINK_OPEN,
  thinkEnd: THINK_CLOSE,
  answerStart: ANSWER_OPEN,
  answerEnd: ANSWER_CLOSE,
} = SPECIAL_TOKENS;

/**
 * The text with every `<|begin_of_box|>` and `<|end_of_box|>` removed (their content stays).
 * @example stripBoxTokens("The answer is <|begin_of_box|>7<|end_of_box|>.") // "The answer is 7."
 */
export function stripBoxTokens(text: string): string {
  let s = text;
  // Removing one token can join its neighbours into another ("<|begin_of_" + token + "box|>"): repeat until none.
  while (s.includes(BEGIN_OF_BOX) || s.includes(END_OF_BOX))
    s = s.split(BEGIN_OF_BOX).join("").split(END_OF_BOX).join("");
  return s;
}

/** Remove every occurrence of an ASCII tag, ignoring case (the gate reads tags case-insensitively too). */
function removeTag(text: string, tag: string): string {
  let out = "";
  let from = 0;
  for (let at = indexOfTag(text, tag); at !== -1; at = indexOfTag(text, tag, from)) {
    out += text.slice(from, at);
    from = at + tag.length;
  }
  return out + text.slice(from);
}

/**
 * The text without its reasoning: every closed `<think>…</think>` block goes; a `</think>` before any `<think>`
 * (the prompt opened the thought, as GLM templates and forced answering do) drops everything before it; an
 * unclosed `<think>` drops everything after it (the model was still thinking: there is no answer yet).
 * @example stripThinking("<think>2+2</think>It is 4.") // "It is 4."
 */
export function stripThinking(text: string): string {
  let s = text;
  const firstOpen = indexOfTag(s, THINK_OPEN);
  const firstClose = indexOfTag(s, THINK_CLOSE);
  if (firstClose !== -1 && (firstOpen === -1 || firstClose < firstOpen))
    s = s.slice(firstClose + THINK_CLOSE.length);
  let out = "";
  let from = 0;
  for (let open = indexOfTag(s, THINK_OPEN); open !== -1; open = indexOfTag(s, THINK_OPEN, from)) {
    out += s.slice(from, open);
    const close = indexOfTag(s, THINK_CLOSE, open + THINK_OPEN.length);
    if (close === -1) return out;
    from = close + THINK_CLOSE.length;
  }
  // A stray `</think>` left after the blocks is a tag, not text for people.
  return removeTag(out + s.slice(from), THINK_CLOSE);
}

/**
 * The answer a person should see: the response without its reasoning, the 4.1V `<answer>` tags, the box tokens
 * and trailing stop tokens, trimmed. Works for every GLM-V style (4.1V, 4.5V, 4.6V, thinking on or off) and for
 * text that has none of these markers (returned trimmed). `\boxed{…}` is TeX that clients render, so it stays.
 * @example
 * cleanAnswer("<think>Count the apples.</think>There are <|begin_of_box|>7<|end_of_box|> apples.<|user|>")
 * // "There are 7 apples."
 * @example cleanAnswer("<think>t</think><answer><|begin_of_box|>B<|end_of_box|></answer>") // "B"
 */
export function cleanAnswer(response: string): string {
  let s = stripStopTokens(response);
  // Each pass only shortens the text; a second one catches markers that removing others joined up.
  for (let before = ""; before !== s; ) {
    before = s;
    s = stripThinking(s);
    s = removeTag(removeTag(s, ANSWER_OPEN), ANSWER_CLOSE);
    s = stripStopTokens(stripBoxTokens(s));
  }
  return s;
}
