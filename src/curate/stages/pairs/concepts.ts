/**
 * Concepts of a caption for concept-balanced resampling: content words (stop words out, plural `s`/`es` folded,
 * at least three letters), or, given a vocabulary, the vocabulary terms (single or multi-word) the caption names.
 */

const STOP_WORDS = new Set(
  `a an the and or but of on in at to for from with without by over under above below near into onto off out up down
  is are was were be been being am has have had do does did this that these those there here it its it's they them
  their he she his her we our you your i me my as than then so such very some any all each every both few more most
  other another one two three four five six seven eight nine ten image photo picture shown showing shows view close
  while which who whom what where when why how not no can will just about against between through during before after
  again further once only own same too also front back left right top bottom side next background foreground`
    .split(/\s+/)
    .filter(Boolean),
);

/** A word's folded form: lower case, a plural `ies`/`es`/`s` ending taken back to the singular (roughly). */
export function normaliseWord(word: string): string {
  const w = word.toLowerCase();
  if (w.length > 4 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(ches|shes|sses|xes|zes)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith("s") && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/**
 * The distinct concepts a caption names, in first-mention order.
 * @example
 * conceptsOf("Two red apples on a wooden table") // ["red", "apple", "wooden", "table"]
 */
export function conceptsOf(caption: string, vocabulary?: string[]): string[] {
  const words = (caption.toLowerCase().match(/\p{L}+/gu) ?? []).map(normaliseWord);
  if (vocabulary) {
    const text = ` ${words.join(" ")} `;
    return vocabulary.filter((term) => text.includes(` ${term} `));
  }
  const seen = new Set<string>();
  for (const w of words) if (w.length >= 3 && !STOP_WORDS.has(w)) seen.add(w);
  return [...seen];
}

/** A vocabulary file's terms: one a line, `#` comments and blank lines skipped, folded like caption words. */
export const parseVocabulary = (text: string): string[] => [
  ...new Set(
    text
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*/, "").trim())
      .filter(Boolean)
      .map((term) => (term.toLowerCase().match(/\p{L}+/gu) ?? []).map(normaliseWord).join(" "))
      .filter(Boolean),
  ),
];
