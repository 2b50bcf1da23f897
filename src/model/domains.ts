/**
 * The vocabulary task data and the reward system share (§5.2, Table 1): which domain an item belongs to, and which
 * GLM-V response style an answer follows. It sits below both (data and reward are siblings and never import each
 * other) and imports nothing, so `glmv/reward` still loads without the model code.
 */

/** The domains `glmv reward score` accepts; each has one verifier in `src/reward/verifiers/<domain>.ts`. */
export const DOMAINS = [
  "math",
  "physics",
  "chemistry",
  "chart",
  "ocr",
  "counting",
  "choice",
  "text",
  "grounding",
  "gui",
] as const;
export type Domain = (typeof DOMAINS)[number];

/** Response styles: GLM-4.1V wraps the answer in `<answer>` tags, GLM-4.5V does not. */
export const STYLES = ["4.1v", "4.5v"] as const;
export type ResponseStyle = (typeof STYLES)[number];
