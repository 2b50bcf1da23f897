/**
 * The verifier contract (glmv issue 19 part 4): every registered verifier is called with every context field the
 * orchestrator passes, built the way `system.ts` builds it (`verifierContext`). The official release once zeroed a
 * whole domain because one verifier misspelt a keyword and the orchestrator swallowed the TypeError; here such a
 * verifier fails this file, and a throw that reaches the orchestrator is stage "verifier_error", never a wrong answer.
 */
import { describe, expect, it } from "vitest";
import { DOMAINS, type Domain } from "../model/domains.ts";
import { VERIFIERS } from "./registry.ts";
import { type ScoreInput, scoreItem, verifierContext } from "./system.ts";
import type { Verifier, VerifyContext } from "./types.ts";

const box = (a: string) => `<|begin_of_box|>${a}<|end_of_box|>`;
const r41 = (a: string) => `<think>work it out</think><answer>${box(a)}</answer>`;
const r45 = (a: string) => `<think>work it out</think>The answer is ${box(a)}.`;

const OPTIONS = ["red", "blue", "green", "yellow"];
const OPTION_MAP = { A: "red", B: "blue", C: "green", D: "yellow" };

/** One right and one wrong prediction per domain; `byOption` is a right answer that only the options resolve. */
type Case = { gold: string; right: string; wrong: string; byOption?: string };
const GUI_CLICK = (x: number) => `{"action_type":"click","box_2d":[[${x},10,${x + 90},100]]}`;
const CASES: Record<Domain, Case> = {
  math: { gold: "0.5", right: "\\frac{1}{2}", wrong: "0.6" },
  physics: { gold: "3 m/s", right: "3 m/s", wrong: "4 m/s" },
  chemistry: { gold: "2 mol", right: "2 mol", wrong: "3 mol" },
  chart: { gold: "B", right: "B", wrong: "C", byOption: "blue" },
  ocr: { gold: "hello world", right: "hello world", wrong: "goodbye moon" },
  counting: { gold: "7", right: "7", wrong: "8" },
  choice: { gold: "B", right: "B", wrong: "C", byOption: "blue" },
  text: { gold: "B", right: "B", wrong: "C", byOption: "blue" },
  grounding: { gold: "[[10,10,100,100]]", right: "[[10,10,100,100]]", wrong: "[[500,500,900,900]]" },
  gui: { gold: GUI_CLICK(10), right: GUI_CLICK(10), wrong: GUI_CLICK(600) },
};

/** The domains whose items may carry `precision` (the item schema refuses it elsewhere). */
const PRECISION_DOMAINS: readonly Domain[] = ["math", "physics", "chemistry"];

/** A valid item of `domain` with every optional field the orchestrator reads for the verifier set. */
const fullItem = (domain: Domain, response: string, extra: Partial<ScoreInput> = {}): ScoreInput => ({
  id: `${domain}-full`,
  domain,
  response,
  answer: CASES[domain].gold,
  question: "Which colour is the car? Answer with the option letter.",
  options: OPTIONS,
  ...(PRECISION_DOMAINS.includes(domain) ? { precision: { decimals: 2 } } : {}),
  // Grounding fields in the 0–999 frame, so every case above keeps its meaning with them set.
  coords: "0-999",
  goldCoords: "0-999",
  imageSize: { width: 1000, height: 1000 },
  boxReward: "threshold",
  iouThreshold: 0.5,
  ...extra,
});

/**
 * The contexts a verifier must accept: everything its items may set (options as a list and as a map), every field
 * any item may set (even one the schema keeps from this domain: a verifier must not trip on it), and nothing set.
 */
function contexts(domain: Domain): { name: string; ctx: VerifyContext }[] {
  return [
    { name: "all fields, options as a list", ctx: verifierContext(fullItem(domain, "")) },
    {
      name: "every field of any domain",
      ctx: verifierContext({ ...fullItem("math", ""), domain, answer: CASES[domain].gold }),
    },
    {
      name: "all fields, options as a map",
      ctx: verifierContext(fullItem(domain, "", { options: OPTION_MAP })),
    },
    {
      name: "no optional field",
      ctx: verifierContext({ id: 1, domain, response: "", answer: CASES[domain].gold }),
    },
  ];
}

/**
 * Everything wrong with one verifier under the contract: a throw, a malformed result, a right answer not scored 1,
 * a wrong one not scored 0. Empty when it holds.
 */
function contractProblems(domain: Domain, verify: Verifier): string[] {
  const problems: string[] = [];
  const c = CASES[domain];
  for (const { name, ctx } of contexts(domain)) {
    const call = (pred: string) => {
      try {
        return verify(pred, c.gold, ctx);
      } catch (e) {
        problems.push(`${name}: threw ${e instanceof Error ? e.message : String(e)}`);
        return null;
      }
    };
    const right = call(c.right);
    const wrong = call(c.wrong);
    for (const r of [right, wrong]) {
      if (r === null) continue;
      const wellFormed =
        Number.isFinite(r.score) &&
        r.score >= 0 &&
        r.score <= 1 &&
        typeof r.correct === "boolean" &&
        typeof r.reason === "string";
      if (!wellFormed) problems.push(`${name}: malformed result ${JSON.stringify(r)}`);
    }
    if (right && !(right.correct && right.score === 1))
      problems.push(`${name}: right answer scored ${JSON.stringify(right)}`);
    if (wrong && (wrong.correct || wrong.score !== 0))
      problems.push(`${name}: wrong answer scored ${JSON.stringify(wrong)}`);
    // Options only help when the orchestrator passed them: the field must reach the verifier under its name.
    if (c.byOption !== undefined && ctx.options !== undefined) {
      const byOption = call(c.byOption);
      if (byOption && !byOption.correct)
        problems.push(`${name}: option text not resolved through ctx.options (${byOption.reason})`);
    }
  }
  return problems;
}

describe("verifier contract: every verifier, every context field the orchestrator passes", () => {
  it("the registry has a verifier for every domain, and this file a case for each", () => {
    expect(Object.keys(VERIFIERS).sort()).toEqual([...DOMAINS].sort());
    expect(Object.keys(CASES).sort()).toEqual([...DOMAINS].sort());
  });

  it("the test items set every field of the context system.ts builds (a new field must be exercised here)", () => {
    const keys = new Set(DOMAINS.flatMap((d) => Object.keys(verifierContext(fullItem(d, "")))));
    const setSomewhere = (k: string) =>
      DOMAINS.some((d) => (verifierContext(fullItem(d, "")) as Record<string, unknown>)[k] !== undefined);
    expect([...keys].filter((k) => !setSomewhere(k))).toEqual([]);
  });

  it.each(DOMAINS)(
    "%s: accepts every context field, returns a well-formed result, scores right 1 and wrong 0",
    (d) => {
      expect(contractProblems(d, VERIFIERS[d])).toEqual([]);
    },
  );

  it("catches the official bug: a verifier that reads a misspelt context keyword fails the contract", () => {
    const misspelt: Verifier = (pred, gold, ctx) => {
      const imagePath = (ctx as Record<string, unknown>).image_path;
      if (imagePath === undefined) throw new TypeError("judge() missing required argument: 'image_path'");
      return VERIFIERS.counting(pred, gold, ctx);
    };
    const problems = contractProblems("counting", misspelt);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/threw .*image_path/);
    // One that ignores the options it was handed is caught too.
    const deaf: Verifier = (pred, gold) => VERIFIERS.choice(pred, gold, {});
    expect(contractProblems("choice", deaf).join("\n")).toMatch(/option text not resolved/);
  });

  it.each(DOMAINS)(
    "%s: through the orchestrator, a right answer with every field set is 1 at stage verify",
    (d) => {
      for (const [style, respond] of [
        ["4.1v", r41],
        ["4.5v", r45],
      ] as const) {
        const right = scoreItem(fullItem(d, respond(CASES[d].right), { style }));
        expect(right, `${d} ${style}: ${right.reason}`).toMatchObject({
          reward: 1,
          correct: true,
          stage: "verify",
        });
        const wrong = scoreItem(fullItem(d, respond(CASES[d].wrong), { style }));
        expect(wrong.stage, `${d} ${style}: ${wrong.reason}`).not.toBe("verifier_error");
        expect(wrong.reward).toBe(0);
      }
    },
  );
});

describe("verifier errors are their own stage, never a wrong answer", () => {
  const boom: Verifier = () => {
    throw new TypeError("judge() got an unexpected keyword argument 'image_path'");
  };

  it("a verifier that throws is stage verifier_error with the message as the reason", () => {
    const r = scoreItem(fullItem("counting", r41("7")), { verifiers: { ...VERIFIERS, counting: boom } });
    expect(r).toMatchObject({
      reward: 0,
      correct: false,
      timedOut: false,
      stage: "verifier_error",
      reason: "verifier error: judge() got an unexpected keyword argument 'image_path'",
    });
  });

  it("a wrong answer stays stage verify, so the two are counted apart", () => {
    const wrong = scoreItem(fullItem("counting", r41("8")));
    expect(wrong).toMatchObject({ reward: 0, stage: "verify" });
  });

  it("a domain without a verifier is a verifier_error too (a misconfigured table, not a wrong answer)", () => {
    const { counting: _dropped, ...rest } = VERIFIERS;
    const r = scoreItem(fullItem("counting", r41("7")), {
      verifiers: rest as unknown as Record<Domain, Verifier>,
    });
    expect(r).toMatchObject({ reward: 0, stage: "verifier_error" });
    expect(r.reason).toMatch(/no verifier for domain 'counting'/);
  });
});
