/**
 * Multiple-choice verifier: which option letter(s) does an answer designate, and is that the gold set?
 * Accepts letters in the usual dressings ("B", "(B)", "B.", "Option B", "B) 42") or the option's own text.
 * Several letters in a prediction only score when the gold names the same set (multi-answer items, order-free).
 */
import { matchText } from "../text-normalize.ts";
import type { Verifier, VerifyContext } from "../types.ts";

type Options = VerifyContext["options"];

/** One option as (upper-case letter, normalised text). */
type OptionEntry = { letter: string; text: string };

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Case, whitespace and edge-punctuation insensitive form used to compare option texts. */
function normalizeOptionText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[\s"'“”‘’`]+|[\s"'“”‘’`.。,，;；!！]+$/g, "")
    .replace(/\s+/g, "");
}

/** Options as a letter-ordered list; option texts that carry their own "A." prefix lose it. */
function optionEntries(options: Options): OptionEntry[] {
  if (!options) return [];
  const pairs: [string, string][] = Array.isArray(options)
    ? options.map((text, i) => [LETTERS[i] ?? "", text])
    : Object.entries(options).map(([k, v]) => [k.trim().replace(/^\(?([A-Za-z])\)?\.?$/, "$1"), v]);
  return pairs
    .filter(([letter]) => /^[A-Za-z]$/.test(letter))
    .map(([letter, text]) => {
      const upper = letter.toUpperCase();
      const own = new RegExp(`^\\s*\\(?${upper}\\s*[).:：、]\\s*`, "i");
      return { letter: upper, text: normalizeOptionText(String(text).replace(own, "")) };
    });
}

/** Lead-ins that may precede the letter: "Answer: B", "The answer is (B)", "Option B", "选项B". */
const LEAD_IN =
  /^(?:(?:the\s+)?(?:correct\s+|final\s+)?(?:answer|option|choice)s?\s*(?:is|are|:|：)?\s*|(?:option|choice)s?\s+|选项|答案(?:是|为|：|:)?\s*)/i;

/** A lone letter in optional brackets: "B", "(B)", "[b]". */
const BARE_LETTER = /^[([（]?\s*([A-Za-z])\s*[)\]）]?$/;
/** A letter, a delimiter and the option text after it: "B) 42", "(B) 42", "B. 42", "B: 42". */
const LETTER_WITH_TEXT = /^[([（]?\s*([A-Za-z])\s*(?:[)\]）]\s*[.:：]?|[.:：、]|\s[-–])\s*(.+)$/s;

/** Reads a letter-dressed answer; `rest` is the option text written after the letter, if any. */
function singleLetter(s: string): { letter: string; rest: string | undefined } | null {
  const bare = BARE_LETTER.exec(s);
  if (bare) return { letter: bare[1]!, rest: undefined };
  const withText = LETTER_WITH_TEXT.exec(s);
  if (!withText) return null;
  const letter = withText[1]!;
  // A lower-case letter followed by text ("a. cat") is only an option when bracketed ("(a) cat").
  if (letter !== letter.toUpperCase() && !/^[([（]/.test(s)) return null;
  // "(A)(C)", "A、C": the "text" is more letters, so this is a letter list.
  if (letterList(withText[2]!) !== null) return null;
  return { letter, rest: withText[2] };
}

/**
 * Letters separated by commas, "and", "&", spaces or "、", or written together in upper case ("AC", "A, C",
 * "(A)(C)"). Every token must be one letter or an upper-case run, so prose ("A dog") is not a list.
 */
function letterList(s: string): string[] | null {
  const tokens = s
    .replace(/\b(?:and|or)\b/gi, " ")
    .split(/[\s,，、;；&/()（）[\]]+/)
    .filter(Boolean);
  if (tokens.length === 0) return null;
  if (!tokens.every((t) => /^[A-Za-z]$/.test(t) || /^[A-Z]{2,10}$/.test(t))) return null;
  return [...tokens.join("").toUpperCase()];
}

/** The letters a string designates, by dressing alone (no option texts); null when it is not a letter form. */
function letterSet(s: string, allowed: Set<string> | null): string[] | null {
  const one = singleLetter(s);
  const letters = one ? [one.letter.toUpperCase()] : letterList(s);
  if (!letters) return null;
  if (allowed && letters.some((l) => !allowed.has(l))) return null;
  // "AA" or "A, A" is not a set of options.
  if (new Set(letters).size !== letters.length) return null;
  return letters.sort();
}

/** `\textbf{B}`, `\mathrm{(C)}`, `\text{D}`: TeX styling around a whole answer says nothing about which option. */
function unwrapTexStyle(s: string): string {
  const m = /^\s*\\(?:text|textbf|textit|mathbf|mathrm|mathit|boldsymbol)\s*\{([^{}]*)\}\s*$/.exec(s);
  return m ? m[1]! : s;
}

/**
 * All option letters an answer designates, sorted ("A, C" → ["A", "C"]), or null when it designates none or
 * contradicts itself ("B) 17" where 17 is option C's text).
 * @example resolveChoices("A and C", ["1", "2", "3"]) // ["A", "C"]
 */
export function resolveChoices(pred: string, options: Options): string[] | null {
  const entries = optionEntries(options);
  const allowed = entries.length > 0 ? new Set(entries.map((e) => e.letter)) : null;
  const trimmed = unwrapTexStyle(pred.normalize("NFKC"))
    .trim()
    .replace(/[.。!！]+$/, "")
    .trim();
  if (trimmed.length === 0 || trimmed.length > 400) return null;
  // The option's own text wins over letter readings ("A cat" when option B is "a cat").
  const byText = matchOptionText(trimmed, entries);
  if (byText !== null) return byText;
  const body = trimmed.replace(LEAD_IN, "").trim();
  const bodyText = body === trimmed ? null : matchOptionText(body, entries);
  if (bodyText !== null) return bodyText;
  const letters = letterSet(body, allowed);
  if (!letters) return null;
  if (letters.length === 1) {
    const rest = singleLetter(body)?.rest;
    if (rest !== undefined && rest.trim().length > 0 && entries.length > 0) {
      const restText = normalizeOptionText(rest);
      const own = entries.find((e) => e.letter === letters[0]);
      // "B) 17" is fine when 17 is B's text or any text not naming another option; naming another is a hedge.
      if (own && own.text !== restText && entries.some((e) => e.text === restText)) return null;
    }
  }
  return letters;
}

/** The single letter whose option text equals the answer; null when none, [] never. */
function matchOptionText(s: string, entries: OptionEntry[]): string[] | null {
  if (entries.length === 0) return null;
  const norm = normalizeOptionText(s);
  if (norm.length === 0) return null;
  const hits = entries.filter((e) => e.text === norm).map((e) => e.letter);
  // Two options with the same text: the answer cannot tell them apart.
  return hits.length === 1 ? hits : null;
}

/**
 * The one option letter an answer designates ("B", "(B)", "B.", "Option B", "B) 42", or B's text, case- and
 * space-insensitive); null if it designates none, several, or contradicts itself.
 * @example resolveChoice("Option b", ["cat", "dog"]) // "B"
 */
export function resolveChoice(pred: string, options: Options): string | null {
  const letters = resolveChoices(pred, options);
  return letters && letters.length === 1 ? letters[0]! : null;
}

/**
 * Multiple-choice verifier. Gold is a letter, a letter set ("AC", "A, C") or the option text.
 * Score 1 iff the prediction designates exactly the gold set of letters. Without options, a gold that is not a
 * letter form is compared as normalised text (`matchText`).
 * @example verifyChoice("(b)", "B", {}) // { score: 1, correct: true, reason: "choice B matches" }
 */
export const verifyChoice: Verifier = (pred, gold, ctx) => {
  const goldLetters = resolveChoices(gold, ctx.options);
  if (!goldLetters) {
    return matchText(pred, gold) !== null
      ? { score: 1, correct: true, reason: "option text matches" }
      : { score: 0, correct: false, reason: "gold is not an option letter and the text differs" };
  }
  const predLetters = resolveChoices(pred, ctx.options);
  if (!predLetters) return { score: 0, correct: false, reason: "prediction designates no option" };
  const p = predLetters.join("");
  const g = goldLetters.join("");
  if (p === g) return { score: 1, correct: true, reason: `choice ${g} matches` };
  if (predLetters.length > 1 && goldLetters.length === 1)
    return { score: 0, correct: false, reason: `several options (${p}) for a single-answer item` };
  return { score: 0, correct: false, reason: `chose ${p}, gold ${g}` };
};
