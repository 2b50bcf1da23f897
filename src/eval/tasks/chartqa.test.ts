import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { chartqaToFloat, relaxedCorrectness } from "../scoring/relaxed-accuracy.ts";
import type { ScoringInput } from "../types.ts";
import { type ChartQaItem, task } from "./chartqa.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";

const BENCH = resolve(import.meta.dirname, "../../../test/benchmarks/chartqa");

/**
 * Verdicts of lmms-eval `lmms_eval/tasks/chartqa/utils.py` `relaxed_correctness` (EvolvingLMMs-Lab/lmms-eval
 * @ 2bb5e98), transcribed to Python and run with python3 on these (prediction, target) pairs.
 */
const OFFICIAL: [string, string, boolean][] = [
  ["14", "14", true],
  ["14.0", "14", true],
  ["14.7", "14", true],
  ["14.71", "14", false],
  ["13.3", "14", true],
  ["13.29", "14", false],
  ["15", "14", false],
  ["0.57", "0.57", true],
  ["0.6", "0.57", false],
  ["0.54", "0.57", false],
  ["0.5415", "0.57", true],
  ["57%", "0.57", true],
  ["0.57", "57%", true],
  ["57", "0.57", false],
  ["62%", "62", false],
  ["62 %", "62", false],
  [" 62", "62", true],
  ["62\n", "62", true],
  ["62 ", "62", true],
  ["+62", "62", true],
  ["6.2e1", "62", true],
  ["1_4", "14", true],
  ["\u0661\u0664", "14", true],
  ["\uff11\uff14", "14", true],
  ["14%%", "0.14", true],
  ["1,000", "1000", false],
  ["1000", "1,000", false],
  ["0", "0", true],
  ["0.0", "0", false],
  ["0", "0.0", false],
  ["-0", "0", false],
  ["0.01", "0", false],
  ["nan", "nan", false],
  ["NaN", "nan", false],
  ["inf", "inf", false],
  ["1e500", "inf", false],
  ["No", "No", true],
  ["no", "No", true],
  ["NO", "No", true],
  ["No.", "No", false],
  ["Yes", "No", false],
  ["green line", "green line", true],
  ["Green Line", "green line", true],
  ["green", "green line", false],
  ["Inspired", "Inspired", true],
  ["inspired ", "Inspired", false],
  ["2014", "2014", true],
  ["2015", "2014", true],
  ["2100", "2014", true],
  ["1.216666667", "1.216666667", true],
  ["1.22", "1.216666667", true],
  ["1.3", "1.216666667", false],
  ["29.0", "29", true],
  ["30", "29", true],
  ["31", "29", false],
  ["Ted Baker", "Ted Baker", true],
  ["5G", "5G", true],
  ["5g", "5G", true],
  ["5", "5G", false],
  ["", "14", false],
  ["", "", true],
];

const score = (items: ChartQaItem[], answers: string[]) =>
  task.scoreAll(
    answers.map((answer, i) => ({ item: items[i], response: answer, answer }) as ScoringInput<ChartQaItem>),
  );

describe("ChartQA relaxed accuracy (lmms-eval chartqa/utils.py)", () => {
  it("agrees with the official relaxed_correctness on 61 pairs (5% band, % handling, zero targets, Python float())", () => {
    const ours = OFFICIAL.map(([p, t]) => [p, t, relaxedCorrectness(p, t)]);
    expect(ours).toEqual(OFFICIAL);
  });

  it("_to_float: a trailing % divides by 100, Python float() syntax otherwise", () => {
    expect(chartqaToFloat("57%")).toBeCloseTo(0.57, 12);
    expect(chartqaToFloat("1_000")).toBe(1000);
    expect(chartqaToFloat("1,000")).toBeNull();
    expect(chartqaToFloat("12 apples")).toBeNull();
  });

  it("a zero target falls back to exact string comparison (no tolerance)", () => {
    expect(relaxedCorrectness("0", "0")).toBe(true);
    expect(relaxedCorrectness("0.001", "0")).toBe(false);
  });
});

describe("ChartQA loaders and summary", () => {
  it("reads the original test folder: human split first, ids per split, png/ images, the official post-prompt", async () => {
    const items = await task.load(BENCH);
    expect(items).toHaveLength(48);
    expect(items[0]).toMatchObject({
      id: "human_test_0",
      prompt: "How many food item is shown in the bar graph?\nAnswer the question with a single word.",
      gold: "14",
      fields: { split: "human_test" },
      images: [{ path: join(BENCH, "png", "41699051005347.png") }],
    });
    expect(items[24]).toMatchObject({
      id: "augmented_test_0",
      gold: "47",
      fields: { split: "augmented_test" },
    });
    const single = await task.load(join(BENCH, "test_augmented.json"));
    expect(single.map((it) => it.id).slice(0, 2)).toEqual(["augmented_test_0", "augmented_test_1"]);
  });

  it("reports relaxed_overall and the human / augmented split means", async () => {
    const items = await task.load(BENCH);
    // Human: all right; augmented: the first 12 right (numbers 3% off), the other 12 wrong.
    const answers = items.map((it, i) => {
      if (it.fields.split === "human_test") return it.gold;
      const n = Number(it.gold);
      if (i - 24 < 12) return Number.isNaN(n) ? it.gold.toUpperCase() : String(n * 1.03);
      return "unanswerable";
    });
    const summary = task.summarize(items, score(items, answers));
    expect(summary).toMatchObject({ headline: 75, unit: "%", accuracy: 0.75 });
    expect(summary.breakdowns.split).toEqual({
      human_test: { n: 24, score: 1 },
      augmented_test: { n: 24, score: 0.5 },
    });
  });

  it("reads the hub's lmms-lab/ChartQA Parquet (type column, image bytes)", async () => {
    const png = await tinyPng();
    const file = writeHubParquet([
      { name: "type", kind: "string", data: ["human_test", "human_test", "augmented_test"] },
      { name: "question", kind: "string", data: ["How many bars?", "Is A more than B?", "What year?"] },
      { name: "answer", kind: "string", data: ["3", "No", "2013"] },
      {
        name: "image",
        kind: "image",
        data: [
          { bytes: png, path: null },
          { bytes: png, path: null },
          { bytes: png, path: null },
        ],
      },
    ]);
    const items = await task.load(file);
    expect(items.map((it) => [it.id, it.gold, it.fields.split])).toEqual([
      ["human_test_0", "3", "human_test"],
      ["human_test_1", "No", "human_test"],
      ["augmented_test_0", "2013", "augmented_test"],
    ]);
    expect(items[2]?.images).toEqual([{ bytes: png, mime: "image/png" }]);
  });

  it("a record without its label is an error naming file, record and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chartqa-"));
    mkdirSync(join(dir, "png"));
    copyFileSync(join(BENCH, "test_human.json"), join(dir, "test_human.json"));
    writeFileSync(join(dir, "test_augmented.json"), JSON.stringify([{ imgname: "a.png", query: "q" }]));
    await expect(task.load(dir)).rejects.toThrow(
      `field 'label' must be a string, got nothing (missing) (at ${join(dir, "test_augmented.json")}:[0])`,
    );
  });

  it("fromRecord reads hub or original fields plus a response", () => {
    const { item, response } = task.fromRecord(
      { type: "human_test", question: "q", answer: "14", response: "14.5" },
      5,
    );
    expect(item).toMatchObject({ id: "4", gold: "14", fields: { split: "human_test" }, images: [] });
    expect(score([item], [response])[0]?.score).toBe(1);
    const original = task.fromRecord(
      { imgname: "a.png", query: "q", label: "Yes", split: "augmented", response: "yes" },
      1,
    );
    expect(original.item.fields.split).toBe("augmented_test");
  });
});
