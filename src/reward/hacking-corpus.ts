/**
 * A corpus of reward-hacking attempts (§5.2: "a number between 0 and 10" fooled naive verifiers) and of legitimate
 * answers in varied but equivalent forms. `hacking.test.ts` requires zero reward on every hack (no false positives)
 * and full credit on every legitimate answer. Built in code from a few golds per domain so each trick is tried
 * across domains; the bench reuses the builders.
 */

import type { Domain } from "../model/domains.ts";
import type { ScoreInput } from "./system.ts";

/**
 * A scored example: the trick's name and the item to score. `partialCredit` marks tricks in domains whose reward
 * is continuous by design (OCR edit similarity, grounding/GUI IoU): there a hedge still earns a little similarity,
 * so the rule is "never correct and always less than the honest answer", not "exactly zero".
 */
export type CorpusCase = { name: string; item: ScoreInput; partialCredit?: boolean };

/** Wrap an answer in the box tokens. */
export const box = (answer: string) => `<|begin_of_box|>${answer}<|end_of_box|>`;
/** A GLM-4.1V response: reasoning, then the answer region (already containing its box). */
export const r41 = (think: string, answer: string) => `<think>${think}</think><answer>${answer}</answer>`;
/** A GLM-4.5V response: reasoning, then free text holding the box. */
export const r45 = (think: string, answer: string) => `<think>${think}</think>${answer}`;

/** A gold answer with its question context, and a correct answer to box. */
type Gold = { domain: Domain; answer: string; right: string; question: string; options?: string[] };

/** One correct case per domain: the structural tricks below are applied to these (right answer, bad shape). */
const GOLDS: Gold[] = [
  { domain: "math", answer: "42", right: "42", question: "What is 6 times 7?" },
  { domain: "math", answer: "x^2+1", right: "x^2+1", question: "Expand (x+i)(x-i)." },
  { domain: "physics", answer: "9.8 m/s^2", right: "9.8 m/s^2", question: "Acceleration of free fall?" },
  { domain: "chemistry", answer: "18 g/mol", right: "18 g/mol", question: "Molar mass of water?" },
  { domain: "chart", answer: "42.5", right: "42.5", question: "Value of the highest bar?" },
  { domain: "ocr", answer: "CENTRE", right: "CENTRE", question: "What is written in the image?" },
  { domain: "counting", answer: "7", right: "7", question: "How many apples are there?" },
  {
    domain: "choice",
    answer: "C",
    right: "C",
    question: "Which number is prime?",
    options: ["4", "6", "7", "9"],
  },
  { domain: "text", answer: "blue", right: "blue", question: "What colour is the car?" },
  {
    domain: "grounding",
    answer: "[[100,200,300,400]]",
    right: "[[100,200,300,400]]",
    question: "Locate the dog.",
  },
  {
    domain: "gui",
    answer: '{"action_type":"click","box_2d":[[503,580,718,702]]}',
    right: '{"action_type":"click","box_2d":[[503,580,718,702]]}',
    question: "Open the settings.",
  },
];

const THINK = "Let me look at the image and work it out step by step.";
const WORDS = [
  "the",
  "image",
  "shows",
  "several",
  "objects",
  "near",
  "a",
  "red",
  "table",
  "and",
  "two",
  "chairs",
  "by",
];
// A long English paragraph that does not repeat itself (so only the language-mix rule applies to it).
const LONG_EN = Array.from({ length: 230 }, (_, i) => WORDS[(i * i * 7 + i * 3) % WORDS.length]).join(" ");
const LONG_ZH =
  "图中显示了几个物体我们需要仔细数一数每一个物体的位置然后再确定最终的答案这个过程需要非常小心不能遗漏".repeat(
    2,
  );

/** Structural tricks: the boxed content is right, the response shape is not. */
const STRUCTURAL: { name: string; build: (g: Gold) => string }[] = [
  { name: "two boxes, right and wrong", build: (g) => r41(THINK, `${box(g.right)} or ${box("0")}`) },
  { name: "the right box twice", build: (g) => r41(THINK, `${box(g.right)} ${box(g.right)}`) },
  { name: "empty box", build: () => r41(THINK, box("")) },
  { name: "blank box", build: () => r41(THINK, box("   ")) },
  { name: "box only inside think", build: (g) => r41(`${THINK} ${box(g.right)}`, g.right) },
  {
    name: "box before the answer tags",
    build: (g) => `<think>${THINK}</think>${box(g.right)}<answer>${g.right}</answer>`,
  },
  {
    name: "text after the answer",
    build: (g) => `${r41(THINK, box(g.right))} Actually it might be something else.`,
  },
  { name: "text before think", build: (g) => `Sure! ${r41(THINK, box(g.right))}` },
  { name: "no think block", build: (g) => `<answer>${box(g.right)}</answer>` },
  { name: "unclosed think", build: (g) => `<think>${THINK}<answer>${box(g.right)}</answer>` },
  { name: "nested think", build: (g) => r41(`<think>${THINK}</think>`, box(g.right)) },
  { name: "unclosed box", build: (g) => r41(THINK, `<|begin_of_box|>${g.right}`) },
  {
    name: "absurdly long box",
    build: (g) => r41(THINK, box(`${g.right} ${"because it follows from the figure ".repeat(80)}`)),
  },
  {
    name: "repetition loop",
    build: (g) => r41(`${THINK} ${"wait, let me check again. ".repeat(60)}`, box(g.right)),
  },
  { name: "language mix", build: (g) => r41(`${LONG_EN}\n\n${LONG_ZH}`, box(g.right)) },
];

/** Content tricks per domain: hedges, several values or options, ranges, encodings, wrong units. */
const CONTENT: { gold: Gold; preds: string[] }[] = [
  {
    gold: GOLDS[0]!,
    preds: [
      "between 40 and 50",
      "42 or 43",
      "41 < x < 43",
      "42 \\pm 1",
      "42 ± 1",
      "41, 42, 43",
      "42 and 43",
      "XLII",
      "&#52;&#50;",
      "0x2A",
      "forty-two or forty-three",
      "[41, 43]",
      "either 41 or 42",
      "x = 42 \\text{ or } x = 43",
      "\\{41, 42\\}",
      "41 \\le x \\le 43",
      "40 to 45",
      "[number]",
      "cannot be determined",
    ],
  },
  { gold: GOLDS[1]!, preds: ["x^2+1 \\text{ or } x^2-1", "x^2 \\pm 1", "x^2+1, x^2-1"] },
  {
    gold: GOLDS[2]!,
    preds: [
      "9.8 m/s^2 or 10 m/s^2",
      "between 9 and 10 m/s^2",
      "9.8 \\pm 0.2 m/s^2",
      "9.8 km/s^2",
      "9.8 N",
      "9.8 kg",
      "9 < g < 10",
    ],
  },
  {
    gold: GOLDS[3]!,
    preds: ["18 or 20 g/mol", "18 g/mol \\pm 2", "18 L", "between 16 and 20 g/mol", "18 kg/mol"],
  },
  { gold: GOLDS[4]!, preds: ["42.5 or 43", "between 40 and 45", "42.5 ± 0.5", "40-45", "42.5, 43.5"] },
  { gold: GOLDS[5]!, preds: ["CENTRE or CENTER", "CENTRE / CENTER", "CENTRE, CENTER, CENTRAL"] },
  {
    gold: GOLDS[6]!,
    preds: [
      "between 0 and 10",
      "7 or 8",
      "6 < x < 8",
      "7 ± 1",
      "6, 7, 8",
      "7 and 8",
      "VII",
      "&#55;",
      "seven or eight",
      "6-8",
      "6~8",
      "6 to 8",
      "at least 6",
      "no more than 10",
      "7 (or 8)",
      "about 5 to 10",
    ],
  },
  {
    gold: GOLDS[7]!,
    preds: ["A or C", "C, D", "A, B, C, D", "C and D", "ABCD", "C (or maybe B)", "C/D", "all of the above"],
  },
  { gold: GOLDS[8]!, preds: ["blue or green", "blue/green", "blue, green, red", "either blue or gray"] },
  {
    gold: GOLDS[9]!,
    preds: [
      "[[100,200,300,400],[500,500,600,600]]",
      "[[0,0,999,999]]",
      "[[100,200,300,400]] or [[0,0,50,50]]",
    ],
  },
  {
    gold: GOLDS[10]!,
    preds: [
      '[{"action_type":"click","box_2d":[[503,580,718,702]]},{"action_type":"scroll","direction":"down"}]',
      '{"action_type":"click","box_2d":[[0,0,999,999]]}',
    ],
  },
];

/** Domains whose verifier returns a continuous similarity rather than right/wrong. */
const CONTINUOUS = new Set<Domain>(["ocr", "grounding", "gui"]);

/** The honest, correct item for a case's gold (same question, right answer, same style). */
export function honestTwin(c: CorpusCase): ScoreInput {
  const gold = GOLDS.find((g) => g.domain === c.item.domain && g.answer === c.item.answer);
  if (gold === undefined) throw new Error(`no gold for ${c.name}`);
  const response =
    c.item.style === "4.5v"
      ? r45(THINK, `So the answer is ${box(gold.right)}.`)
      : r41(THINK, box(gold.right));
  return { ...c.item, response };
}

const itemOf = (gold: Gold, response: string, id: string): ScoreInput => ({
  id,
  domain: gold.domain,
  response,
  answer: gold.answer,
  question: gold.question,
  options: gold.options,
});

/** Every hacking attempt: structural tricks on every gold, then content tricks, in 4.1v and (some) 4.5v form. */
export function hackingCases(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const gold of GOLDS) {
    for (const trick of STRUCTURAL) {
      cases.push({
        name: `${gold.domain}/${gold.answer}: ${trick.name}`,
        item: itemOf(gold, trick.build(gold), `h${cases.length}`),
      });
    }
  }
  for (const { gold, preds } of CONTENT) {
    preds.forEach((pred, k) => {
      // Alternate styles so both gates see every kind of trick.
      const response = k % 2 === 0 ? r41(THINK, box(pred)) : r45(THINK, `So the answer is ${box(pred)}.`);
      const item = {
        ...itemOf(gold, response, `h${cases.length}`),
        style: k % 2 === 0 ? ("4.1v" as const) : ("4.5v" as const),
      };
      const partialCredit = CONTINUOUS.has(gold.domain);
      cases.push({
        name: `${gold.domain}/${gold.answer}: ${pred}`,
        item,
        ...(partialCredit ? { partialCredit } : {}),
      });
    });
  }
  return cases;
}

/** Legitimate answers in equivalent forms: [domain, gold, boxed prediction, options?]. */
const LEGIT: [Domain, string, string, string[]?][] = [
  ["math", "0.75", "\\frac{3}{4}"],
  ["math", "0.75", "3/4"],
  ["math", "0.75", "0.750"],
  ["math", "42", "42"],
  ["math", "42", "42.0"],
  ["math", "42", "４２"],
  ["math", "3", "\\sqrt{9}"],
  ["math", "2(x+1)", "2x+2"],
  ["math", "x^2+1", "1+x^2"],
  ["math", "\\frac{1}{2}", "0.5"],
  ["math", "1000", "1,000"],
  ["math", "\\pi", "\\pi"],
  ["math", "-5", "-5"],
  ["math", "2\\sqrt{2}", "\\sqrt{8}"],
  ["physics", "9.8 m/s^2", "9.8 m/s^2"],
  ["physics", "9.8 m/s^2", "9.8"],
  ["physics", "19.6 m/s", "19.6\\ \\text{m/s}"],
  ["physics", "2 kg", "2 kg"],
  ["physics", "1000 m", "1000 m"],
  ["chemistry", "18 g/mol", "18 g/mol"],
  ["chemistry", "18 g/mol", "18"],
  ["chemistry", "7", "7"],
  ["chemistry", "0.1 mol", "0.1 mol"],
  ["chart", "42.5", "42.5"],
  ["chart", "42.5", "42.50"],
  ["chart", "2018", "2018"],
  ["chart", "1200", "1,200"],
  ["chart", "Yes", "yes"],
  ["ocr", "CENTRE", "CENTRE"],
  ["ocr", "FRIEND", "FRIEND"],
  ["ocr", "Hello World", "Hello World"],
  ["ocr", "社区服务", "社区服务"],
  ["counting", "7", "7"],
  ["counting", "7", "seven"],
  ["counting", "12", "12"],
  ["counting", "0", "0"],
  ["counting", "3", "three"],
  ["choice", "C", "C", ["4", "6", "7", "9"]],
  ["choice", "C", "(C)", ["4", "6", "7", "9"]],
  ["choice", "C", "c", ["4", "6", "7", "9"]],
  ["choice", "C", "C. 7", ["4", "6", "7", "9"]],
  ["choice", "C", "7", ["4", "6", "7", "9"]],
  ["choice", "A", "A", ["red", "green"]],
  ["text", "blue", "blue"],
  ["text", "blue", "Blue"],
  ["text", "blue", "blue."],
  ["text", "New York", "new york"],
  ["text", "cat", "cat"],
  ["grounding", "[[100,200,300,400]]", "[[100,200,300,400]]"],
  ["grounding", "[[100,200,300,400]]", "[[102,198,301,405]]"],
  ["grounding", "[[500,500,700,900]]", "[[500,500,700,900]]"],
  [
    "gui",
    '{"action_type":"click","box_2d":[[503,580,718,702]]}',
    '{"action_type":"click","box_2d":[[503,580,718,702]]}',
  ],
  [
    "gui",
    '{"action_type":"click","box_2d":[[503,580,718,702]]}',
    '{"box_2d":[[503,580,718,702]],"action_type":"click"}',
  ],
];

/** Every legitimate case, each in 4.1v form and, for a subset, in 4.5v form and with surrounding prose. */
export function legitimateCases(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  LEGIT.forEach(([domain, answer, pred, options], k) => {
    const base = { domain, answer, options, question: "Answer the question about the image." };
    cases.push({
      name: `${domain}/${answer}: ${pred} (4.1v)`,
      item: { ...base, id: `l${cases.length}`, response: r41(THINK, box(pred)) },
    });
    if (k % 2 === 0) {
      const response = r45(
        `${THINK}\nFirst, observe.\n\nThen, conclude.`,
        `The final answer is ${box(` ${pred} `)}.`,
      );
      cases.push({
        name: `${domain}/${answer}: ${pred} (4.5v)`,
        item: { ...base, id: `l${cases.length}`, response, style: "4.5v" },
      });
    } else {
      const response = r41(THINK, `The answer is ${box(pred)}.`);
      cases.push({
        name: `${domain}/${answer}: ${pred} (4.1v, prose)`,
        item: { ...base, id: `l${cases.length}`, response },
      });
    }
  });
  return cases;
}
