/**
 * MMMU's response parsing and evaluation, reimplemented from MMMU-Benchmark/MMMU `eval/eval_utils.py` (the same
 * functions as `mmmu/utils/eval_utils.py` and lmms-eval's `tasks/mmmu/utils.py`): the multiple-choice parser with
 * its `random.choice` fallback, the open-answer parser (key sub-responses, three number regexes, `normalize_str`),
 * `eval_multi_choice` and `eval_open`. Python's semantics are kept: Unicode `\d`/`\b`/`\s`, `str.strip`, `float()`
 * and `round(x, 2)`.
 */
import { PY_SPACE_CLASS, pyParseFloat, pyRound } from "../python/numbers.ts";
import type { PyRandom } from "../python/random.ts";
import { pySplitWhitespace, pyStrip } from "../python/text.ts";

/** The characters MMMU's parsers strip from both ends, one after the other. */
export const MMMU_STRIP_CHARS = [",", ".", "!", "?", ";", ":", "'"] as const;

/** `response.strip(c)` for each of MMMU's characters in turn (not all at once: ".," keeps its comma). */
export function stripMmmuPunctuation(response: string): string {
  let out = response;
  for (const ch of MMMU_STRIP_CHARS) out = pyStrip(out, ch);
  return out;
}

/** Index of the first maximum (`np.argmax`). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > (values[best] as number)) best = i;
  });
  return best;
}

/** A parsed letter, and whether it came from the random fallback (its verdict is then a coin toss). */
export type ParsedChoice = { letter: string; randomDraw: boolean };

/**
 * `parse_multi_choice_response`: "(X)" candidates, else " X " candidates, else (responses of more than five words)
 * options whose text occurs in the response; several → the one occurring last; none → `random.choice`.
 * @example parseMultiChoiceResponse("The answer is (B).", ["A", "B"], { A: "x", B: "y" }, new PyRandom(42)) // B
 */
export function parseMultiChoiceResponse(
  response: string,
  allChoices: readonly string[],
  index2ans: Readonly<Record<string, string>>,
  random: PyRandom,
): ParsedChoice {
  const text = ` ${stripMmmuPunctuation(response)} `;
  let candidates = allChoices.filter((c) => text.includes(`(${c})`));
  const withBrackets = candidates.length > 0;
  if (candidates.length === 0) candidates = allChoices.filter((c) => text.includes(` ${c} `));
  let byContent = false;
  if (candidates.length === 0 && pySplitWhitespace(text).length > 5) {
    const lower = text.toLowerCase();
    candidates = Object.keys(index2ans).filter((k) => lower.includes((index2ans[k] as string).toLowerCase()));
    byContent = candidates.length > 0;
  }
  if (candidates.length === 0) return { letter: random.choice(allChoices), randomDraw: true };
  if (candidates.length === 1) return { letter: candidates[0] as string, randomDraw: false };
  const lower = text.toLowerCase();
  const starts = candidates.map((c) => {
    if (byContent) return lower.lastIndexOf((index2ans[c] as string).toLowerCase());
    return text.lastIndexOf(withBrackets ? `(${c})` : ` ${c} `);
  });
  return { letter: candidates[argmax(starts)] as string, randomDraw: false };
}

/** A normalised open-answer token: a number rounded to 2 decimals, or lower-cased text. */
export type OpenToken = { kind: "num"; value: number } | { kind: "str"; value: string };

const codePoints = (s: string) => Array.from(s).length;

/** `normalize_str`: a number (after removing commas) → `round(float, 2)`; text → lower-case, one char → " x", "x ". */
export function normalizeStr(raw: string): OpenToken[] {
  const text = pyStrip(raw);
  const number = pyParseFloat(text.replaceAll(",", ""));
  if (number !== null) return [{ kind: "num", value: pyRound(number, 2) }];
  const lower = text.toLowerCase();
  if (codePoints(lower) === 1) {
    return [
      { kind: "str", value: ` ${lower}` },
      { kind: "str", value: `${lower} ` },
    ];
  }
  return [{ kind: "str", value: lower }];
}

// Python's str patterns: \d is any Unicode decimal digit, \w is alphanumeric or "_", \b sits between \w and not-\w
const D = "\\p{Nd}";
const W = "[\\p{L}\\p{N}_]";
const B = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const NUMBER_WITH_COMMAS = new RegExp(`-?${B}${D}{1,3}(?:,${D}{3})+${B}`, "gu");
const NUMBER_SCIENTIFIC = new RegExp(`-?${D}+(?:\\.${D}+)?[eE][+-]?${D}+`, "gu");
const NUMBER_SIMPLE = new RegExp(`-?(?:${D}+\\.${D}+|\\.${D}+|${D}+${B})(?![eE][+-]?${D}+)(?![,${D}])`, "gu");

/** `extract_numbers`: all comma-grouped numbers, then all scientific ones, then all simple ones (`re.findall`). */
export function extractNumbers(text: string): string[] {
  return [NUMBER_WITH_COMMAS, NUMBER_SCIENTIFIC, NUMBER_SIMPLE].flatMap((re) =>
    Array.from(text.matchAll(re), (m) => m[0]),
  );
}

const SENTENCE_SPLIT = new RegExp(`\\.[${PY_SPACE_CLASS}](?=[A-Z])|\\n`, "u");
const KEY_INDICATORS = ["could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result "];
const TRIVIAL = new Set([":", ",", ".", "!", "?", ";", "'"]);

/** `get_key_subresponses`: per sentence, the shortest tail after an indicator ("=" too in the last sentence). */
function keySubResponses(response: string): string[] {
  const text = pyStrip(pyStrip(response), ".").toLowerCase();
  const sentences = text.split(SENTENCE_SPLIT);
  const keys: string[] = [];
  sentences.forEach((sentence, index) => {
    const indicators = index === sentences.length - 1 ? [...KEY_INDICATORS, "="] : KEY_INDICATORS;
    let shortest: string | null = null;
    for (const indicator of indicators) {
      const at = sentence.lastIndexOf(indicator);
      if (at === -1) continue;
      const tail = pyStrip(sentence.slice(at + indicator.length));
      // `if not shortest`: an empty tail found first is replaced by the next one whatever its length
      if (!shortest || codePoints(tail) < codePoints(shortest)) shortest = tail;
    }
    if (shortest && !TRIVIAL.has(pyStrip(shortest))) keys.push(shortest);
  });
  return keys.length === 0 ? [text] : keys;
}

/**
 * `parse_open_response`: the key sub-responses plus every number in them, each normalised (`normalizeStr`).
 * @example parseOpenResponse("So the answer is 3,000.") // [{kind:"str",value:"3,000"}, {kind:"num",value:3000}]
 */
export function parseOpenResponse(response: string): OpenToken[] {
  const keys = keySubResponses(response);
  const all = [...keys, ...keys.flatMap(extractNumbers)];
  const tokens: OpenToken[] = [];
  const seen = new Set<string>();
  for (const token of all.flatMap(normalizeStr)) {
    const key = token.kind === "num" && Number.isNaN(token.value) ? null : `${token.kind}:${token.value}`;
    if (key !== null && seen.has(key)) continue; // list(set(...)); NaN objects never compare equal
    if (key !== null) seen.add(key);
    tokens.push(token);
  }
  return tokens;
}

/** `eval_multi_choice`: the letter equals the gold (or one of the golds). */
export function evalMultiChoice(gold: string | readonly string[], letter: string): boolean {
  return typeof gold === "string" ? gold === letter : gold.includes(letter);
}

/** `eval_open`: some text token contains a normalised gold text, or some number equals a normalised gold number. */
export function evalOpen(gold: string | readonly string[], predicted: readonly OpenToken[]): boolean {
  const golds = (typeof gold === "string" ? [gold] : gold).flatMap(normalizeStr);
  return predicted.some((p) =>
    p.kind === "str"
      ? golds.some((g) => g.kind === "str" && p.value.includes(g.value))
      : golds.some((g) => g.kind === "num" && g.value === p.value),
  );
}
