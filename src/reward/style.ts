/**
 * Style checks from the paper with the official thresholds (reward-spec-official.md §1.4):
 * degenerate repetition (`detect_repeat`, unused in the release, wired in here) and long-paragraph
 * Chinese/English mixing (`detect_long_paragraph_mixing`). Lengths are counted in code points, as Python does.
 */

/** Window length of the repetition check, in code points. */
const REPEAT_WINDOW = 50;
/** A window seen this many times means the text loops. */
const REPEAT_MIN_COUNT = 10;
/** Runs of these characters at least this long are formatting (tables, rules, ellipses), not repetition. */
const FILLER_MIN_RUN = 3;
const FILLER_CHARS = ["=", "|", "-", "~", "_", "#", "*", ".", "%", "－", "█", " ", "─"] as const;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/** Remove formatting fillers in the release's order: `|---|` → `|`, then each run of a filler char (≥ 3). */
function stripFillers(text: string): string {
  let s = text.replace(/\|-+\|/g, "|");
  for (const ch of FILLER_CHARS) {
    s = s.replace(new RegExp(`${escapeRegExp(ch)}{${FILLER_MIN_RUN},}`, "g"), "");
  }
  return s;
}

/**
 * True when some 50-character window occurs at least 10 times (overlaps count) after fillers are removed:
 * the official `detect_repeat` with its defaults. One pass with a map of windows: near-linear.
 * @example detectRepetition("abc".repeat(200)) // true
 */
export function detectRepetition(text: string): boolean {
  const s = stripFillers(text);
  // Offsets of code-point starts, so windows are 50 code points like Python's slicing.
  const starts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lowSurrogate = c >= 0xdc00 && c <= 0xdfff && i > 0 && isHighSurrogate(s.charCodeAt(i - 1));
    if (!lowSurrogate) starts.push(i);
  }
  starts.push(s.length);
  const seen = new Map<string, number>();
  for (let i = REPEAT_WINDOW; i < starts.length; i++) {
    const window = s.slice(starts[i - REPEAT_WINDOW]!, starts[i]!);
    const n = (seen.get(window) ?? 0) + 1;
    if (n >= REPEAT_MIN_COUNT) return true;
    seen.set(window, n);
  }
  return false;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** Thresholds of the language-mix check (the release's defaults). */
const MIN_CHINESE_CHARS = 50;
const MIN_CHINESE_SHARE = 0.8;
const MIN_ENGLISH_WORDS = 200;
const MIN_ENGLISH_SHARE = 0.7;

const CJK = /[\u4e00-\u9fff]/g;
// Python's `\b[a-zA-Z]{2,}\b`: its `\b` is Unicode-aware, so a word touching a CJK letter or digit is no word.
const ENGLISH_WORD = /(?<![\p{L}\p{N}_])[a-zA-Z]{2,}(?![\p{L}\p{N}_])/gu;

/** Whether a paragraph is long Chinese: ≥ 50 CJK characters making > 80% of its characters. */
function isLongChinese(para: string): boolean {
  const cjk = para.match(CJK)?.length ?? 0;
  return cjk >= MIN_CHINESE_CHARS && cjk / codePointLength(para) > MIN_CHINESE_SHARE;
}

/** Whether a paragraph is long English: ≥ 200 Latin words making > 70% of its whitespace tokens. */
function isLongEnglish(para: string): boolean {
  const words = para.match(ENGLISH_WORD)?.length ?? 0;
  if (words < MIN_ENGLISH_WORDS) return false;
  const tokens = para.split(/\s+/).filter((t) => t.length > 0).length;
  return words / (tokens + 1e-5) > MIN_ENGLISH_SHARE;
}

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * True when the text has both a long Chinese paragraph and a long English paragraph (paragraphs split on
 * blank lines): the official `detect_long_paragraph_mixing` with its defaults.
 * @example detectLanguageMix(`${"中".repeat(60)}\n\n${"word ".repeat(250)}`) // true
 */
export function detectLanguageMix(text: string): boolean {
  let chinese = false;
  let english = false;
  for (const raw of text.split(/\n{2,}/)) {
    const para = raw.trim();
    if (para.length === 0) continue;
    chinese ||= isLongChinese(para);
    english ||= isLongEnglish(para);
    if (chinese && english) return true;
  }
  return false;
}

/** A style penalty that zeroes the reward. */
export type StylePenalty = "repetition" | "language_mix";

/**
 * The style penalties of a whole response, in a fixed order: `["repetition"]`, `["language_mix"]`, both, or none.
 * @example stylePenalties("<think>ok</think>\\boxed{1}") // []
 */
export function stylePenalties(response: string): StylePenalty[] {
  const penalties: StylePenalty[] = [];
  if (detectRepetition(response)) penalties.push("repetition");
  if (detectLanguageMix(response)) penalties.push("language_mix");
  return penalties;
}
