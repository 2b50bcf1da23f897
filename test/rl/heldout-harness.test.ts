/**
 * `glmv rl`'s held-out evaluation and the eval harness agree: the responses the run evaluated, written as
 * `heldout-responses.jsonl` records, score to the run's own accuracy through `glmv eval`'s `synthetic` task.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { scoreSavedResponses } from "../../src/cli/eval.ts";
import { buildSuite } from "../../src/data/tasks/suite.ts";
import { loadTask } from "../../src/eval/registry.ts";
import { SPECIAL_TOKENS } from "../../src/model/special-tokens.ts";
import { evaluateHeldout } from "../../src/rl/job/engine-common.ts";
import { heldoutRecords } from "../../src/rl/job/main-job-rl.ts";
import { parseRlConfig } from "../../src/rl/loop/config.ts";
import { textPolicy } from "../../src/rl/loop/text-policy.fixture.ts";

const { thinkStart, thinkEnd, answerStart, answerEnd, beginBox, endBox } = SPECIAL_TOKENS;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("held-out evaluation through the eval harness", () => {
  it("scores the run's responses to the run's accuracy, family by family", async () => {
    const items = buildSuite({ seed: 3, perFamily: 6, split: "heldout" });
    const byPrompt = new Map(items.map((item, i) => [item.id, { item, i }]));
    // right on two thirds of the items (a wrong box, a hedge or no format on the rest)
    const { policy } = textPolicy((prompt) => {
      const { item, i } = byPrompt.get(prompt.id)!;
      const box = (a: string) =>
        `${thinkStart}look${thinkEnd}${answerStart}${beginBox}${a}${endBox}${answerEnd}`;
      if (i % 3 === 0) return i % 2 ? box("zzz") : `${box(item.responseAnswer)}${beginBox}x${endBox}`;
      return box(item.responseAnswer);
    });
    const config = parseRlConfig({});
    const result = await evaluateHeldout(policy, items, config, { sampled: false });
    expect(result.accuracy).toBeCloseTo(2 / 3, 10);

    const dir = mkdtempSync(join(tmpdir(), "glmv-heldout-"));
    dirs.push(dir);
    const file = join(dir, "heldout-responses.jsonl");
    writeFileSync(file, heldoutRecords(items, result.responses));
    const { run } = await scoreSavedResponses(await loadTask("synthetic"), file, join(dir, "heldout"), {
      extract: "auto",
    });
    expect(run.summary.accuracy).toBe(result.accuracy);
    for (const [family, accuracy] of Object.entries(result.perFamily)) {
      expect(run.summary.breakdowns.family![family]!.score, family).toBe(accuracy);
    }
  });
});
