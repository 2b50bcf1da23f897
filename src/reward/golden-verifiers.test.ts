/**
 * Golden cases measured with the released `glmv_reward` (LLM judge offline), run through glmv's verifiers.
 * Where glmv's intended, deterministic rule differs from the offline official value, the expected value here is
 * glmv's and the note says why. Every golden case of these sections must have an expectation, so a changed
 * fixture cannot go untested.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Verifier } from "./types.ts";
import { verifyChart } from "./verifiers/chart.ts";
import { verifyCounting } from "./verifiers/counting.ts";
import { verifyOcr, verifyOcrIgnoreCase } from "./verifiers/ocr.ts";
import { verifyText } from "./verifiers/text.ts";

type GoldenCase = [string, number | string];
const GOLDEN = JSON.parse(
  readFileSync(new URL("../../test/fixtures/glmv-reward-golden.json", import.meta.url), "utf8"),
) as Record<string, GoldenCase[]>;

/** Split the fixture's "'pred' vs 'gold'" (Python reprs) into the two strings. */
function splitPair(label: string): [string, string] {
  const m = /^'(.*)' vs '(.*)'$/s.exec(label);
  if (!m) throw new Error(`unexpected golden label ${label}`);
  const unrepr = (s: string) => s.replace(/\\(n|t|\\|')/g, (_, c: string) => ({ n: "\n", t: "\t" })[c] ?? c);
  return [unrepr(m[1]!), unrepr(m[2]!)];
}

/** glmv's expected score per golden label, with a note where it departs from the offline official value. */
type Expectation = { score: number; note?: string };

function runSection(section: string, verifier: Verifier, expected: Record<string, Expectation>): void {
  const cases = GOLDEN[section];
  describe(section, () => {
    it("has an expectation for every golden case", () => {
      expect(cases).toBeDefined();
      for (const [label] of cases!) expect(expected, label).toHaveProperty([label]);
    });
    for (const [label, official] of cases ?? []) {
      const want = expected[label];
      if (!want) continue;
      const title = want.note
        ? `${label}: ${want.score} (official ${official}; ${want.note})`
        : `${label}: ${official}`;
      it(title, () => {
        const [pred, gold] = splitPair(label);
        const r = verifier(pred, gold, {});
        expect(r.score).toBeCloseTo(want.score, 12);
        if (!want.note && typeof official === "number") expect(r.score).toBeCloseTo(official, 12);
      });
    }
  });
}

const DEAD_NUMERIC = "the release's numeric path is dead code; glmv's intended rule decides";

runSection("chart.judge(tol=2.5e-2)", verifyChart, {
  "'2010' vs '2011'": { score: 0 },
  "'2011' vs '2011.0'": { score: 1, note: DEAD_NUMERIC },
  "'102' vs '100'": { score: 1, note: `${DEAD_NUMERIC} (2% < 2.5%; the intended-mode run gives 1)` },
  "'102.6' vs '100'": { score: 0 },
  "'97.5' vs '100'": { score: 1, note: `${DEAD_NUMERIC} (the intended-mode run gives 1)` },
  "'97.4' vs '100'": { score: 0 },
  "'0.5' vs '50%'": { score: 1, note: "glmv's percent rule: a bare side may be the fraction of a % side" },
  "'72 °' vs '72'": { score: 1, note: "units and degree signs are stripped around a number" },
});

runSection(
  "ocr.judge(case-sensitive)",
  verifyOcr,
  Object.fromEntries(
    (GOLDEN["ocr.judge(case-sensitive)"] ?? []).map(([label, score]) => [label, { score: Number(score) }]),
  ),
);

runSection(
  "ocr_ignore_case.judge",
  verifyOcrIgnoreCase,
  Object.fromEntries(
    (GOLDEN["ocr_ignore_case.judge"] ?? []).map(([label, score]) => [label, { score: Number(score) }]),
  ),
);

runSection("ocr.judge", verifyOcr, {
  "'' vs ''": {
    score: 0,
    note: "the release raises ZeroDivisionError (caught as 0); glmv returns 0 with a reason",
  },
});

runSection("counting.judge(LLM offline)", verifyCounting, {
  "'1' vs '1'": { score: 1 },
  "'01' vs '1'": { score: 1 },
  "'1' vs '1.0'": {
    score: 1,
    note: "glmv reads a zero-fraction decimal as a whole count; the release asks an LLM",
  },
  "'2' vs '22'": { score: 0 },
  "'5' vs 'five'": { score: 1, note: "number words are read deterministically; the release asks an LLM" },
});

runSection("mmsi.judge(tol=0.9)", verifyText, {
  "'50%' vs '0.5'": { score: 1 },
  "'72°' vs '72'": { score: 1 },
  "'50 %' vs '0.5'": { score: 1 },
  "'1' vs '1.9'": { score: 0 },
  "'1' vs '2.1'": { score: 0 },
  "'1' vs '10'": { score: 0 },
  "'x>1' vs '1<x'": { score: 0, note: "symbolic relations belong to the math verifier, not short text" },
  "'(x+1)**2' vs 'x**2+2*x+1'": { score: 0, note: "symbolic identity belongs to the math verifier" },
  "'0' vs '0.5'": { score: 0 },
  "'2' vs '2.0'": { score: 1, note: "numbers compare by value (the release's numeric path is dead)" },
});

runSection("geography.judge(LLM offline)", verifyText, {
  "'长江, 黄河' vs '黄河、长江'": { score: 1 },
  "'Paris' vs 'paris'": { score: 1 },
  "'8848' vs '8848.0'": { score: 1, note: "numbers compare by value (the release's numeric path is dead)" },
  "'8848' vs '8000'": { score: 0 },
});

describe("ocr.judge: the empty case explains itself", () => {
  it("reason", () => {
    expect(verifyOcr("", "", {}).reason).toMatch(/empty/);
  });
});
