/**
 * Times verifyMath on 2,000 typical (pred, gold) pairs: integers, decimals, fractions, `\frac`, `\sqrt`, simple
 * expressions, right and wrong. Run: `node --import tsx bench/math-verify.ts`. Prints the mean ms per item.
 */
import { verifyMath } from "../src/reward/verifiers/math.ts";

const TEMPLATES: [string, string][] = [
  ["42", "42"],
  ["42", "43"],
  ["3.14", "3.140"],
  ["0.5", "\\frac{1}{2}"],
  ["\\frac{3}{4}", "0.75"],
  ["\\dfrac{2}{3}", "\\frac{2}{3}"],
  ["2\\sqrt{2}", "\\sqrt{8}"],
  ["\\sqrt{3}", "1.7320508"],
  ["1,000", "1000"],
  ["-7", "-7.0"],
  ["\\frac{\\pi}{4}", "0.785398163"],
  ["x+1", "1+x"],
  ["2x+3", "3+2x"],
  ["50\\%", "0.5"],
  ["x = 3", "3"],
  ["12", "\\frac{24}{2}"],
];

/** Vary the numbers so the parse cache does not turn the run into dictionary lookups. */
function pairs(n: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const [p, g] = TEMPLATES[i % TEMPLATES.length]!;
    const k = Math.floor(i / TEMPLATES.length) + 2;
    const bump = (s: string): string => s.replace(/\b(\d+)\b/, (d) => String(Number(d) * k));
    out.push(i % 2 === 0 ? [p, g] : [bump(p), bump(g)]);
  }
  return out;
}

const items = pairs(2000);
verifyMath("\\frac{1}{2}", "x+1", {}); // warm the engine once (construction ~100 ms, not per item)
const start = performance.now();
let correct = 0;
for (const [p, g] of items) correct += verifyMath(p, g, {}).score;
const ms = performance.now() - start;
console.log(
  `math-verify: ${items.length} items, mean ${(ms / items.length).toFixed(3)} ms/item, ${correct} scored 1`,
);
