import { describe, expect, it } from "vitest";
import { buildSuite } from "../../data/tasks/suite.ts";
import { SPECIAL_TOKENS } from "../../model/special-tokens.ts";
import { parseSyntheticSpec, task } from "./synthetic.ts";

const { thinkStart, thinkEnd, answerStart, answerEnd, beginBox, endBox } = SPECIAL_TOKENS;
const glm = (answer: string) =>
  `${thinkStart}look${thinkEnd}${answerStart}${beginBox}${answer}${endBox}${answerEnd}`;

describe("synthetic eval task", () => {
  it("parses its data spec and refuses unknown settings and families", () => {
    expect(parseSyntheticSpec("")).toMatchObject({ seed: 1, perFamily: 16, split: "heldout" });
    expect(parseSyntheticSpec("seed=3, per-family=2,families=counting+ocr")).toMatchObject({
      seed: 3,
      perFamily: 2,
      families: ["counting", "ocr"],
    });
    expect(() => parseSyntheticSpec("families=dots")).toThrow(/unknown family 'dots'/);
    expect(() => parseSyntheticSpec("perfamily=2")).toThrow(/unknown synthetic setting 'perfamily=2'/);
    expect(() => parseSyntheticSpec("seed=-1")).toThrow(/seed must be an integer/);
  });

  it("loads the held-out suite as PNG items and scores right, wrong, hedged and plain answers", async () => {
    const items = await task.load("per-family=2,seed=5");
    const source = buildSuite({ seed: 5, perFamily: 2, split: "heldout" });
    expect(items.map((i) => i.id)).toEqual(source.map((s) => s.id));
    const png = items[0]!.images[0] as { bytes: Uint8Array; mime: string };
    expect(png.mime).toBe("image/png");
    expect([...png.bytes.slice(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const right = source.map((s) => s.responseAnswer);
    const score = (responses: string[], answers = right) =>
      task
        .scoreAll(items.map((item, i) => ({ item, response: responses[i]!, answer: answers[i]! })))
        .map((v) => v.score);
    expect(score(right.map(glm))).toEqual(items.map(() => 1));
    // an outside model's plain answer is judged on the answer alone
    expect(score(right)).toEqual(items.map(() => 1));
    expect(
      score(
        right.map(() => glm("zzz")),
        right.map(() => "zzz"),
      ),
    ).toEqual(items.map(() => 0));
    // a GLM response with two boxes fails the format gate even though the first box is right
    const hedged = right.map((a) => glm(a).replace(endBox, `${endBox} or ${beginBox}x${endBox}`));
    expect(score(hedged)).toEqual(items.map(() => 0));
    const summary = task.summarize(
      items,
      task.scoreAll(items.map((item, i) => ({ item, response: glm(i % 2 ? "zzz" : right[i]!), answer: "" }))),
    );
    expect(summary.accuracy).toBe(0.5);
    expect(Object.keys(summary.breakdowns.family!).sort()).toEqual([
      "chart",
      "counting",
      "grounding",
      "gui",
      "math",
      "ocr",
    ]);
    expect(summary.breakdowns.family!.counting).toEqual({ n: 2, score: 0.5 });
  });
});
