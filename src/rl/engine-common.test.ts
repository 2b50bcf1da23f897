import { describe, expect, it } from "vitest";
import { sftTarget } from "../data/tasks/cot.ts";
import { buildSuite } from "../data/tasks/suite.ts";
import { parseRlConfig } from "./config.ts";
import { evaluateHeldout, median } from "./engine-common.ts";
import type { Policy, RolloutParams } from "./policy.ts";

const items = buildSuite({ seed: 2, perFamily: 4, families: ["counting"], levels: [1, 2], split: "heldout" });

/** Right at temperature 0, wrong when sampling; records each call's parameters. */
function greedyOnlyPolicy() {
  const calls: RolloutParams[] = [];
  const policy: Policy = {
    async generate(prompts, params) {
      calls.push(params);
      return prompts.map((p) => {
        const item = items.find((i) => i.id === p.id)!;
        const answer = params.temperature === 0 ? item.responseAnswer : "0";
        const text = sftTarget({ cot: item.cot, responseAnswer: answer }, "4.1v");
        return [
          { promptId: p.id, tokens: [], logprobs: [], injected: [], text, finished: true, promptTokens: 0 },
        ];
      });
    },
    update: () => Promise.reject(new Error("not used")),
    save: () => Promise.resolve(),
    load: () => Promise.resolve(),
    dispose: () => {},
  };
  return { policy, calls };
}

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
    });
    expect(a.calls.map((c) => c.temperature)).toEqual([0]);

    const b = greedyOnlyPolicy();
    const both = await evaluateHeldout(b.policy, items, config, { sampled: true });
    expect(both.sampledAccuracy).toBe(0);
    expect(b.calls.map((c) => [c.temperature, c.seed])).toEqual([
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
