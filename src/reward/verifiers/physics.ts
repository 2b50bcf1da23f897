/**
 * Physics verifier: the math rules with relative tolerance 1e-5 and units read strictly by dimension
 * (`5 km` = `5000 m`, `1 m/s` = `3.6 km/h`, `25 °C` = `298.15 K`; a unit on only one side is fine when the
 * numbers match, a unit of another dimension is wrong), vectors element-wise (`(3, 4) m/s`), and scientific
 * notation (`3 \times 10^8`, `3e8`, `3.0×10⁸`). A one-letter unit may follow the number directly (`12m`).
 */
import type { Verifier } from "../types.ts";
import { verifyWithTolerance } from "./math.ts";

/** Relative tolerance of the physics verifier (official config). */
export const PHYSICS_TOLERANCE = 1e-5;

/**
 * Physics verifier. Unlike the official one it has an exact-match shortcut (`x` vs `x` → 1) and never sends
 * unit-bearing answers to an LLM: units are converted.
 * @example verifyPhysics("5 km", "5000 m", {}) // { score: 1, correct: true, reason: "numeric (units converted)" }
 */
export const verifyPhysics: Verifier = (pred, gold, ctx) =>
  verifyWithTolerance(pred, gold, ctx, { tol: PHYSICS_TOLERANCE, looseUnits: true });
