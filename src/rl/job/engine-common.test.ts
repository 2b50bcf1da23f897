import { describe, expect, it } from "vitest";
import { sftTarget } from "../../data/tasks/cot.ts";
import { buildSuite } from "../../data/tasks/suite.ts";
import { parseRlConfig } from "../loop/config.ts";
import { textPolicy } from "../loop/text-policy.fixture.ts";
import { evaluateHeldout, median, rewardScorer } from "./engine-common.ts";

const items = buildSuite({ seed: 2, perFamily: 4, families: ["counting"], levels: [1, 2], split: "heldout" });

/** Right at temperature 0, wrong when sampling. */
const greedyOnlyPolicy = () =>
  textPolicy((p, params) => {
    const item = items.find((i) => i.id === p.id)!;
    const answer = params.temperature === 0 ? item.responseAnswer : "0";
    return sftTarget({ cot: item.cot, responseAnswer: answer }, "4.1v");
  });

describe("evaluateHeldout", () => {
  const config = parseRlConfig({ seed: 5 });
  it("reports greedy accuracy by family and level, and the sampled pass only when asked", async () => {
    const a = greedyOnlyPolicy();
    const greedy = await evaluateHeldout(a.policy, items, config, { sampled: false });
    expect(greedy).toEqual({
      accuracy: 1,
      perFamily: { counting: 1 },
      perLevel: { "1": 1, "2": 1 },
      items: 4,
      // The greedy responses, kept for the eval harness's held-out report.
      responses: items.map((item) =>
        sftTarget({ cot: item.cot, responseAnswer: item.responseAnswer }, "4.1v"),
      ),
    });
    expect(a.calls.map((c) => c.params.temperature)).toEqual([0]);

    const b = greedyOnlyPolicy();
    const both = await evaluateHeldout(b.policy, items, config, { sampled: true });
    expect(both.sampledAccuracy).toBe(0);
    expect(b.calls.map((c) => [c.params.temperature, c.params.seed])).toEqual([
      [0, 5],
      [config.rl.temperature, 6],
    ]);
  });

  it("median takes the upper middle and is undefined for no values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([])).toBeUndefined();
  });
});

describe("rewardScorer", () => {
  // A GLM-4.5V non-thinking rollout: the prompt pre-filled `<think></think>`, the completion is the answer alone.
  const rollout = {
    id: "r",
    domain: "counting" as const,
    answer: "3",
    response: "There are <|begin_of_box|>3<|end_of_box|> apples.",
  };

  it("scores with the run's rl.thinking: off gates a rollout without a think block as if the empty one were there", async () => {
    const scoreWith = async (rl: { thinking?: boolean }) => {
      const scorer = rewardScorer(parseRlConfig({ rl: { style: "4.5v", ...rl } }))();
      try {
        return (await scorer.score([rollout]))[0];
      } finally {
        await scorer.close();
      }
    };
    expect(parseRlConfig({}).rl.thinking).toBe(true);
    const [off, on] = await Promise.all([scoreWith({ thinking: false }), scoreWith({})]);
    expect(off).toMatchObject({ reward: 1, format: "ok", extracted: "3" });
    expect(on).toMatchObject({ reward: 0, format: "missing_think" });
  });
});
