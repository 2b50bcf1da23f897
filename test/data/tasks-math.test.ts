import { describe, expect, it } from "vitest";
import { readText } from "../../src/data/tasks/glyph-reader.ts";
import { TEXT_INKS } from "../../src/data/tasks/layout.ts";
import { evaluateExpression, generateMath, MATH } from "../../src/data/tasks/math.ts";
import { parsePlainNumber } from "../../src/reward/numbers.ts";
import { createRng } from "../../src/util/rng.ts";

/** An independent evaluator for the test: fold `*` by regex, then sum signed terms. */
function referenceValue(expr: string): number {
  let s = expr;
  for (let m = /(\d+)\*(\d+)/.exec(s); m; m = /(\d+)\*(\d+)/.exec(s)) {
    s = s.replace(m[0], String(Number(m[1]) * Number(m[2])));
  }
  return (s.match(/[+-]?\d+/g) ?? []).reduce((a, t) => a + Number(t), 0);
}

describe("evaluateExpression", () => {
  it("applies precedence and lists its steps", () => {
    expect(evaluateExpression("3+2*4")).toEqual({ value: 11, steps: ["2*4=8", "3+8=11"] });
    expect(evaluateExpression("1-5+7")).toEqual({ value: 3, steps: ["1-5=-4", "-4+7=3"] });
    expect(evaluateExpression("7")).toEqual({ value: 7, steps: ["7=7"] });
    expect(() => evaluateExpression("12+3")).toThrow(/single-digit/);
  });
});

describe("math family", () => {
  it("renders an expression whose value is the answer, with the operators of its level", () => {
    for (const size of [28, 56, 112]) {
      for (const level of MATH.levels) {
        for (const cls of MATH.answerClasses(level)) {
          for (let seed = 0; seed < 3; seed++) {
            const item = generateMath(createRng(seed * 97 + level * 13 + size), {
              level,
              answerClass: cls,
              size,
            });
            const expr = TEXT_INKS.map((ink) => readText(item.image, ink)).find((t) => t !== null);
            expect(expr).toBeTruthy();
            expect(expr!.length).toBe(level === 3 ? 5 : 3);
            if (level === 1) expect(expr).not.toContain("*");
            expect(referenceValue(expr!)).toBe(Number(cls));
            expect(parsePlainNumber(item.answer)).toEqual({
              value: Number(cls),
              percent: false,
              integer: true,
            });
            expect(item.cot.endsWith(`=${cls}.`)).toBe(true);
          }
        }
      }
    }
  });
});
