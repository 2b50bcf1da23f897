/**
 * The contract of a math-answer form (labelled answers, chains, lists, number formats, …): a form reads both
 * normalised answers and either decides the pair or says it does not apply (null), so `equivalence.ts` can try
 * the forms in order and fall through to its generic rules. Forms recurse through `ctx.compare`, never by
 * importing `equivalence.ts` (which imports them).
 */

/** The outcome of a comparison; `reason` names the rule that decided. */
export type Verdict = { equal: boolean; reason: string };

export const yes = (reason: string): Verdict => ({ equal: true, reason });
export const no = (reason: string): Verdict => ({ equal: false, reason });

/** What a form may call back into: the whole comparison (one level deeper) and a constant's value. */
export type FormContext = {
  /** Compare two normalised answers with every rule (forms included); gold second. */
  compare: (pred: string, gold: string) => Verdict;
  /** The value of a text with no free variables (`\frac{1}{2}`, `2+3`, `25%`); NaN when it has none. */
  evaluate: (text: string) => number;
  /** The caller's relative tolerance. */
  tol: number;
};

/** A form: a verdict when it applies to this (pred, gold) pair, else null. */
export type FormComparer = (pred: string, gold: string, ctx: FormContext) => Verdict | null;
