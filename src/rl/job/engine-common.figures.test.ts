/**
 * The held-out figures a summary reports (`sft.accuracy`, `rl.perFamily`, `rl.perLevel`, `rl.sampledAccuracy`,
 * `heldoutItems`; glmv issue 17), from `evaluateHeldout` with the real reward system, worked out by hand.
 */
import { describe, expect, it } from "vitest";
import { sftTarget } from "../../data/tasks/cot.ts";
import { parseRlConfig } from "../loop/config.ts";
import { stubItem } from "../loop/figures.fixture.ts";
import { textPolicy } from "../loop/text-policy.fixture.ts";
import { evaluateHeldout } from "./engine-common.ts";

// gold answer "1" everywhere; levels alternate 1, 2
const items = [
  stubItem("c1", "counting", 1),
  stubItem("c2", "counting", 2),
  stubItem("c3", "counting", 1),
  stubItem("c4", "counting", 2),
  stubItem("m1", "math", 1),
  stubItem("m2", "math", 2),
];
const greedyRight = new Set(["c1", "c2", "c3", "m1"]);
const sampledRight = new Set(["c4"]);

const close = (x: number) => expect.closeTo(x, 12);

describe("evaluateHeldout figures", () => {
  it("splits greedy accuracy by family and by level over that family's or level's items; sampled apart", async () => {
    const { policy } = textPolicy((p, params) => {
      const right = (params.temperature === 0 ? greedyRight : sampledRight).has(p.id);
      return sftTarget({ cot: "", responseAnswer: right ? "1" : "2" }, "4.1v");
    });
    const result = await evaluateHeldout(policy, items, parseRlConfig({}), { sampled: true });
    expect(result).toEqual({
      accuracy: close(4 / 6),
      // counting 3 of 4, math 1 of 2
      perFamily: { counting: close(3 / 4), math: close(1 / 2) },
      // level 1: c1, c3, m1 all right; level 2: only c2 of c2, c4, m2
      perLevel: { "1": close(1), "2": close(1 / 3) },
      sampledAccuracy: close(1 / 6),
      items: 6,
      // the greedy responses, in item order (the eval harness rescores them: test/rl/heldout-harness.test.ts)
      responses: items.map((i) =>
        sftTarget({ cot: "", responseAnswer: greedyRight.has(i.id) ? "1" : "2" }, "4.1v"),
      ),
    });
  });
});
