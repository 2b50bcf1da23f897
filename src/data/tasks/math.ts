/**
 * Arithmetic from a rendered expression of single digits, answers 0–9. Level 1: `a+b` or `a-b`.
 * Level 2: also `a*b`. Level 3: three operands (`a*b-c`, `a+b-c`, …) with the usual precedence.
 * Domain `math`.
 */
import { GlmvError } from "../../util/errors.ts";
import type { Rng } from "../../util/rng.ts";
import { BACKGROUNDS, checkRequest, checkSize, TEXT_INKS, textScale } from "./layout.ts";
import { createRaster, drawText, measureText } from "./raster.ts";
import type { GenerateRequest, TaskContent, TaskGenerator } from "./types.ts";

const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;
const OPERATORS_BY_LEVEL: Record<number, readonly string[]> = {
  1: ["+", "-"],
  2: ["+", "-", "*"],
  3: ["+", "-", "*"],
};

/**
 * Evaluate `d op d op d …` (single digits; `*` before `+`/`-`), returning the value and the worked steps
 * (`["2*3=6", "6-1=5"]`). The steps are the item's reasoning: they use only what the image shows.
 * @example evaluateExpression("3+2*4") // { value: 11, steps: ["2*4=8", "3+8=11"] }
 */
export function evaluateExpression(expr: string): { value: number; steps: string[] } {
  if (!/^\d([+\-*]\d)*$/.test(expr)) {
    throw new GlmvError("bad_input", `not a single-digit expression: ${expr}`, {
      where: "evaluateExpression",
    });
  }
  const tokens = expr.split(/([+\-*])/);
  const steps: string[] = [];
  // First pass: fold products left to right.
  const terms: string[] = [tokens[0]!];
  for (let i = 1; i < tokens.length; i += 2) {
    const op = tokens[i]!;
    const rhs = tokens[i + 1]!;
    if (op === "*") {
      const lhs = terms.pop()!;
      const product = Number(lhs) * Number(rhs);
      steps.push(`${lhs}*${rhs}=${product}`);
      terms.push(String(product));
    } else terms.push(op, rhs);
  }
  // Second pass: sums and differences left to right.
  let value = Number(terms[0]);
  for (let i = 1; i < terms.length; i += 2) {
    const before = value;
    value = terms[i] === "+" ? value + Number(terms[i + 1]) : value - Number(terms[i + 1]);
    steps.push(`${before}${terms[i]}${terms[i + 1]}=${value}`);
  }
  if (steps.length === 0) steps.push(`${expr}=${value}`);
  return { value, steps };
}

/** Draw random expressions of `operands` digits until one evaluates to `target` (a few dozen tries). */
function expressionFor(rng: Rng, target: number, operands: number, operators: readonly string[]): string {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    let expr = String(rng.int(0, 9));
    for (let i = 1; i < operands; i++) expr += rng.pick(operators) + String(rng.int(0, 9));
    if (evaluateExpression(expr).value === target) return expr;
  }
  throw new GlmvError("engine_error", `no expression found for ${target}`, { where: "math" });
}

/**
 * Render one math item whose value is `answerClass`.
 * @example generateMath(createRng(9), { level: 2, answerClass: "6", size: 56 }).cot // e.g. "2*3=6."
 */
export function generateMath(rng: Rng, { level, answerClass, size }: GenerateRequest): TaskContent {
  checkSize(size, "math");
  checkRequest(level, answerClass, CLASSES, "math");
  const expr = expressionFor(rng, Number(answerClass), level >= 3 ? 3 : 2, OPERATORS_BY_LEVEL[level]!);
  const scale = textScale(size);
  const { width, height } = measureText(expr, scale);
  const img = createRaster(size, size, level >= 3 ? rng.pick(BACKGROUNDS) : BACKGROUNDS[0]!);
  drawText(
    img,
    expr,
    rng.int(1, size - width - 1),
    rng.int(1, size - height - 1),
    rng.pick(TEXT_INKS),
    scale,
  );
  return {
    image: img,
    question: "what is the value?",
    answer: answerClass,
    responseAnswer: answerClass,
    cot: `${evaluateExpression(expr).steps.join(", ")}.`,
  };
}

/** The math family (domain `math`, answers 0–9). */
export const MATH: TaskGenerator = {
  family: "math",
  domain: "math",
  levels: [1, 2, 3],
  answerClasses: () => CLASSES,
  generate: generateMath,
};
