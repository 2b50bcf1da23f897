/**
 * A `FormContext` for testing one form on its own: scalars compare through `answersEquivalent` (every rule) and
 * constants evaluate through the engine, as `equivalence.ts` wires them.
 */
import { answersEquivalent } from "../equivalence.ts";
import { evaluateReal } from "../mathjson-eval.ts";
import { parsePlainNumber } from "../numbers.ts";
import { freeVariables, parseLatex } from "../symbolic.ts";
import type { FormContext } from "./form.ts";

/** The context at the verifier's default relative tolerance (or `tol`). */
export function testFormContext(tol = 1e-6): FormContext {
  return {
    compare: (a, b) => answersEquivalent(a, b, { tol }),
    evaluate: (text) => {
      const plain = parsePlainNumber(text);
      if (plain) return plain.value;
      const json = parseLatex(text);
      if (json === null || freeVariables(json).length > 0) return Number.NaN;
      return evaluateReal(json, new Map());
    },
    tol,
  };
}
