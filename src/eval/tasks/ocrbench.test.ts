import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScoringInput } from "../types.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";
import { type OcrBenchItem, ocrbenchCorrect, task } from "./ocrbench.ts";

const BENCH = resolve(import.meta.dirname, "../../../test/benchmarks/ocrbench");
const RELEASE = join(BENCH, "OCRBench.json");
const reference = JSON.parse(readFileSync(join(BENCH, "reference-verdicts.json"), "utf8")) as {
  cases: { index: number; response: string; official: number }[];
};

const score = (items: OcrBenchItem[], answers: string[]) =>
  task.scoreAll(
    answers.map((answer, i) => ({ item: items[i], response: answer, answer }) as ScoringInput<OcrBenchItem>),
  );

describe("OCRBench official rule (MultimodalOCR OCRBench/example.py)", () => {
  it("agrees with the official scorer on 487 responses across all 10 types of the real OCRBench.json", async () => {
    const items = await task.load(RELEASE);
    const pairs = reference.cases.map((c) => ({ item: items[c.index] as OcrBenchItem, answer: c.response }));
    const verdicts = task.scoreAll(pairs.map((p) => ({ ...p, response: p.answer })));
    const mismatches = reference.cases.filter((c, i) => verdicts[i]?.score !== c.official);
    expect(mismatches).toEqual([]);
    // The set covers both outcomes in every type, so a rule that always says yes or no fails here.
    expect(reference.cases.filter((c) => c.official === 0).length).toBeGreaterThan(100);
  });

  it("matches a gold answer as a substring, case-folded, newlines as spaces", () => {
    expect(ocrbenchCorrect("the word is CENTRE here", "CENTRE", "IIIT5K")).toBe(true);
    expect(ocrbenchCorrect("CENTR", "CENTRE", "IIIT5K")).toBe(false);
    expect(ocrbenchCorrect("New\nYork", "new york", "STVQA")).toBe(true);
    // No punctuation or space folding outside HME100k: a spaced-out word misses.
    expect(ocrbenchCorrect("C E N T R E", "CENTRE", "IIIT5K")).toBe(false);
  });

  it("HME100k removes all spaces and newlines and keeps case", () => {
    const gold = "B a = C H = \\frac { 9 - 1 } { 2 } = 4\n";
    expect(ocrbenchCorrect("$Ba=CH=\\frac{9-1}{2}=4$", gold, "HME100k")).toBe(true);
    expect(ocrbenchCorrect("ba=ch=\\frac{9-1}{2}=4", gold, "HME100k")).toBe(false);
    // The same lower-case answer passes elsewhere: case folding is the other datasets' rule only.
    expect(ocrbenchCorrect("ba=ch", "BA=CH", "IIIT5K")).toBe(true);
  });

  it("accepts any one of a list of answers", () => {
    expect(ocrbenchCorrect("y_2 = - 1", ["y _ { 2 } = - 1\n", "y_2 = - 1\n"], "HME100k")).toBe(true);
    expect(ocrbenchCorrect("it is 1998", ["1997", "1998"], "docVQA")).toBe(true);
    expect(ocrbenchCorrect("it is 1999", ["1997", "1998"], "docVQA")).toBe(false);
  });

  it("scores points out of 1000 with per-type and Text Recognition breakdowns", async () => {
    const items = await task.load(RELEASE);
    // Answer every item with its own gold except the Handwriting items and every other Doc VQA item.
    let docSeen = 0;
    const answers = items.map((it) => {
      const gold = typeof it.gold === "string" ? it.gold : (it.gold[0] as string);
      if (it.fields.type === "Handwriting Recognition") return "";
      if (it.fields.type === "Doc-oriented VQA" && docSeen++ % 2 === 1) return "no idea";
      return gold;
    });
    const summary = task.summarize(items, score(items, answers));
    expect(summary).toMatchObject({ headline: 850, metric: "score", unit: "points", accuracy: 0.85 });
    expect(summary.breakdowns.category?.["Text Recognition"]).toEqual({ n: 300, score: 250 / 300 });
    expect(summary.breakdowns.type?.["Handwriting Recognition"]).toEqual({ n: 50, score: 0 });
    expect(summary.breakdowns.type?.["Doc-oriented VQA"]).toEqual({ n: 200, score: 0.5 });
    expect(summary.breakdowns.dataset?.HME100k).toEqual({ n: 100, score: 1 });
  });
});

describe("OCRBench loaders", () => {
  it("reads OCRBench.json: 1000 items, the question as the prompt, images under OCRBench_Images", async () => {
    const items = await task.load(RELEASE);
    expect(items).toHaveLength(1000);
    expect(items[0]).toMatchObject({
      id: "0",
      prompt: "what is written in the image?",
      gold: "CENTRE",
      fields: { type: "Regular Text Recognition", dataset: "IIIT5K" },
      images: [{ path: join(BENCH, "IIIT5K/test/918_1.png") }],
    });
    const dir = mkdtempSync(join(tmpdir(), "ocrbench-"));
    copyFileSync(RELEASE, join(dir, "OCRBench.json"));
    const withImages = join(dir, "OCRBench_Images", "IIIT5K", "test");
    mkdirSync(withImages, { recursive: true });
    writeFileSync(join(withImages, "918_1.png"), await tinyPng());
    const [first] = await task.load(join(dir, "OCRBench.json"));
    expect(first?.images).toEqual([{ path: join(withImages, "918_1.png") }]);
  });

  it("reads the hub's echo840/OCRBench Parquet with image bytes and list answers", async () => {
    const png = await tinyPng();
    const file = writeHubParquet([
      { name: "dataset", kind: "string", data: ["IIIT5K", "HME100k"] },
      {
        name: "question",
        kind: "string",
        data: ["what is written in the image?", "Write the formula in LaTeX."],
      },
      {
        name: "question_type",
        kind: "string",
        data: ["Regular Text Recognition", "Handwritten Mathematical Expression Recognition"],
      },
      { name: "answer", kind: "strings", data: [["CENTRE"], ["x ^ { 2 }", "x^2"]] },
      {
        name: "image",
        kind: "image",
        data: [
          { bytes: png, path: "" },
          { bytes: png, path: null },
        ],
      },
    ]);
    const items = await task.load(file);
    expect(items.map((it) => [it.id, it.gold, it.fields])).toEqual([
      ["0", ["CENTRE"], { type: "Regular Text Recognition", dataset: "IIIT5K" }],
      [
        "1",
        ["x ^ { 2 }", "x^2"],
        { type: "Handwritten Mathematical Expression Recognition", dataset: "HME100k" },
      ],
    ]);
    expect(items[0]?.images).toEqual([{ bytes: png, mime: "image/png" }]);
    expect(score(items, ["CENTRE", "X^2"]).map((v) => v.score)).toEqual([1, 0]);
  });

  it("a malformed record is an error naming the file, the record and the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ocrbench-bad-"));
    const file = join(dir, "OCRBench.json");
    writeFileSync(
      file,
      JSON.stringify([{ dataset_name: "IIIT5K", question: "q", answers: 7, type: "t", image_path: "a.png" }]),
    );
    await expect(task.load(file)).rejects.toThrow(
      `field 'answers' must be a string or a non-empty list of strings (at ${file}:[0])`,
    );
  });

  it("fromRecord takes OCRBench.json fields plus a response, the line giving the position id", () => {
    const { item, response } = task.fromRecord(
      {
        dataset_name: "HME100k",
        question: "q",
        answers: "x ^ 2",
        type: "Handwritten Mathematical Expression Recognition",
        response: "x^2",
      },
      3,
    );
    expect(item).toMatchObject({ id: "2", gold: "x ^ 2", images: [], fields: { dataset: "HME100k" } });
    expect(response).toBe("x^2");
    expect(() => task.fromRecord({ dataset_name: "a", question: "q", answers: "b", type: "t" }, 1)).toThrow(
      "'response'",
    );
  });
});
