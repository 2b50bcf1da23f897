/**
 * The verifier of each domain, looked up by name. An object literal checked against `Record<Domain, Verifier>`, so
 * a domain without a verifier (or a verifier without a domain) is a compile error.
 */

import type { Domain } from "../model/domains.ts";
import type { Verifier } from "./types.ts";
import { verifyChart } from "./verifiers/chart.ts";
import { verifyChemistry } from "./verifiers/chemistry.ts";
import { verifyChoice } from "./verifiers/choice.ts";
import { verifyCounting } from "./verifiers/counting.ts";
import { verifyGrounding } from "./verifiers/grounding.ts";
import { verifyGui } from "./verifiers/gui.ts";
import { verifyMath } from "./verifiers/math.ts";
import { verifyOcr } from "./verifiers/ocr.ts";
import { verifyPhysics } from "./verifiers/physics.ts";
import { verifyText } from "./verifiers/text.ts";

/**
 * Domain → verifier.
 * @example VERIFIERS.math("1/2", "0.5", {}).correct // true
 */
export const VERIFIERS = {
  math: verifyMath,
  physics: verifyPhysics,
  chemistry: verifyChemistry,
  chart: verifyChart,
  ocr: verifyOcr,
  counting: verifyCounting,
  choice: verifyChoice,
  text: verifyText,
  grounding: verifyGrounding,
  gui: verifyGui,
} satisfies Record<Domain, Verifier>;
