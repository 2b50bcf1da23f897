/**
 * Chemistry verifier: reactions compared as species multisets with proportional coefficients (any arrow),
 * formulas as canonical strings (`H_2O` = `H2O`, charges, state symbols: missing is fine, mismatched is not),
 * and quantities through the math rules at relative tolerance 1e-5 with units (`0.1 M` = `0.1 mol/L`).
 * A formula is never handed to the algebra engine: as algebra `H2O` and `OH2` would be "equal".
 */
import {
  compareReactions,
  hasArrow,
  looksLikeFormula,
  parseReaction,
  parseSpecies,
} from "../chem-formula.ts";
import type { Verifier, VerifyResult } from "../types.ts";
import { verifyWithTolerance } from "./math.ts";

/** Relative tolerance of the chemistry verifier (official config). */
export const CHEMISTRY_TOLERANCE = 1e-5;

const result = (equal: boolean, reason: string): VerifyResult => ({
  score: equal ? 1 : 0,
  correct: equal,
  reason,
});

/**
 * Chemistry verifier.
 * @example verifyChemistry("\\mathrm{H_2O}", "H2O", {}) // { score: 1, correct: true, reason: "formula" }
 */
export const verifyChemistry: Verifier = (pred, gold, ctx) => {
  try {
    // Choice items (options, or a gold letter such as "B", which would also read as boron) go by letter.
    if (ctx.options || /^\s*\(?[A-J]\)?\s*$/.test(gold)) {
      return verifyWithTolerance(pred, gold, ctx, { tol: CHEMISTRY_TOLERANCE, looseUnits: true });
    }
    if (hasArrow(gold) || hasArrow(pred)) {
      const rg = parseReaction(gold);
      const rp = parseReaction(pred);
      if (rg && rp) {
        const v = compareReactions(rp, rg);
        return result(v.equal, v.reason);
      }
      if (rg) return result(false, "prediction is not a reaction");
    }
    const sg = parseSpecies(gold);
    if (looksLikeFormula(sg.formula)) {
      const sp = parseSpecies(pred);
      if (sp.formula !== sg.formula) {
        return result(false, "formula_mismatch");
      }
      if (sp.state && sg.state && sp.state !== sg.state) return result(false, "state_mismatch");
      return result(true, "formula");
    }
    return verifyWithTolerance(pred, gold, ctx, { tol: CHEMISTRY_TOLERANCE, looseUnits: true });
  } catch (err) {
    return result(false, `error: ${err instanceof Error ? err.message : String(err)}`);
  }
};
