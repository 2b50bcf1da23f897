import { describe, expect, it } from "vitest";
import { sftTarget } from "../../data/tasks/cot.ts";
import { buildSuite } from "../../data/tasks/suite.ts";
import { evaluateAccuracy, summarizeAccuracy } from "./evaluate.ts";
import { textPolicy } from "./text-policy.fixture.ts";

const items = buildSuite({ seed: 4, perFamily: 4, families: ["counting", "math"], split: "heldout" });

/** A policy that answers from a table keyed by prompt id. */
const scriptedPolicy = (answers: Map<string, string>) => textPolicy((p) => answers.get(p.id) ?? "");

describe("evaluateAccuracy", () => {
  it("with thinking: false, scores completions without a think block (the prompt pre-filled it)", async () => {
    // GLM-4.5V non-thinking: the completion is the boxed answer alone
    const answers = new Map(items.map((i) => [i.id, `<|begin_of_box|>${i.responseAnswer}<|end_of_box|>`]));
    const opts = { style: "4.5v" as const, maxNewTokens: 16 };
    const off = await evaluateAccuracy(scriptedPolicy(answers).policy, items, { ...opts, thinking: false });
    const on = await evaluateAccuracy(scriptedPolicy(answers).policy, items, opts);
    expect(off.accuracy).toBe(1);
    expect(on.accuracy).toBe(0);
  });

  it("decodes greedily once per item and scores with the reward system, per family", async () => {
    // counting: all correct; math: first two correct, one wrong answer, one without the format
    const answers = new Map<string, string>();
    const maths = items.filter((i) => i.family === "math");
    for (const item of items) answers.set(item.id, sftTarget(item, "4.1v"));
    answers.set(maths[2]!.id, sftTarget({ ...maths[2]!, responseAnswer: "9999" }, "4.1v"));
    answers.set(maths[3]!.id, `the answer is ${maths[3]!.answer}`);
    const { policy, calls } = scriptedPolicy(answers);
    const report = await evaluateAccuracy(policy, items, { style: "4.1v", maxNewTokens: 48 });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.params).toMatchObject({ n: 1, temperature: 0, maxNewTokens: 48, thinkBudget: 48 });
    expect(calls[0]!.prompts.map((p) => p.id)).toEqual(items.map((i) => i.id));
    expect(report.perFamily.counting).toEqual({ n: 4, correct: 4, accuracy: 1 });
    expect(report.perFamily.math).toEqual({ n: 4, correct: 2, accuracy: 0.5 });
    expect(report.accuracy).toBe(6 / 8);
    expect(report.formatOk).toBe(7 / 8);
    expect(report.results.find((r) => r.id === maths[3]!.id)?.format).not.toBe("ok");
  });

  it("samples at the given temperature (the rollout policy) when asked", async () => {
    const { policy, calls } = scriptedPolicy(new Map());
    await evaluateAccuracy(policy, items.slice(0, 2), {
      style: "4.1v",
      maxNewTokens: 8,
      temperature: 1,
      seed: 3,
    });
    expect(calls[0]!.params).toMatchObject({ n: 1, temperature: 1, topP: 1, seed: 3 });
  });

  it("uses a given scorer (e.g. a worker pool) instead of the in-thread one", async () => {
    const { policy } = scriptedPolicy(new Map());
    const report = await evaluateAccuracy(policy, items.slice(0, 2), {
      style: "4.5v",
      maxNewTokens: 8,
      score: async (xs) =>
        xs.map((x) => ({
          reward: x.style === "4.5v" ? 1 : 0,
          correct: true,
          format: "ok" as const,
          extracted: null,
          timedOut: false,
          stage: "verify" as const,
        })),
    });
    expect(report.accuracy).toBe(1);
    expect(report.meanReward).toBe(1);
  });
});

describe("summarizeAccuracy", () => {
  it("counts missing results as wrong", () => {
    const r = summarizeAccuracy(items.slice(0, 2), [], ["", ""]);
    expect(r).toMatchObject({ n: 2, correct: 0, accuracy: 0, formatOk: 0 });
  });

  it("splits accuracy by difficulty level", () => {
    const two = items.slice(0, 2).map((it, i) => ({ ...it, level: i + 1 }));
    const ok = {
      reward: 1,
      correct: true,
      format: "ok" as const,
      extracted: null,
      timedOut: false,
      stage: "verify" as const,
    };
    const r = summarizeAccuracy(two, [ok, { ...ok, reward: 0, correct: false }], ["", ""]);
    expect(r.perLevel).toEqual({
      "1": { n: 1, correct: 1, accuracy: 1 },
      "2": { n: 1, correct: 0, accuracy: 0 },
    });
  });
});
