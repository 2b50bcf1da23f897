/** `import … from "glmv"` (src/index.ts) exports what each layer's own entry exports under the same names. */
import { describe, expect, it } from "vitest";
import * as glmv from "../src/index.ts";
import { cleanAnswer, stripBoxTokens } from "../src/reward/clean.ts";
import { parseSummary, Summary } from "../src/rl/job/summary.ts";

describe("the package root API", () => {
  it("exports the reward helpers for user-facing answers and the summary.json reader", () => {
    expect(glmv.cleanAnswer).toBe(cleanAnswer);
    expect(glmv.stripBoxTokens).toBe(stripBoxTokens);
    expect(glmv.parseSummary).toBe(parseSummary);
    expect(glmv.Summary).toBe(Summary);
  });
});
