import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { pyCapitalize } from "../python/text.ts";
import { processVqaAnswer, vqaScore } from "../scoring/vqa-normalize.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";
import { task } from "./textvqa.ts";

const reference = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../../../test/benchmarks/textvqa/reference-vqa.json"), "utf8"),
) as { normalized: [string, string][]; scores: [string, string[], number][] };

describe("TextVQA VQA score (lmms-eval EvalAIAnswerProcessor + textvqa_process_results)", () => {
  it("normalises 44 answers exactly as the official processor does", () => {
    expect(reference.normalized.map(([raw]) => [raw, processVqaAnswer(raw)])).toEqual(reference.normalized);
  });

  it("keeps the processor's quirks: 32-period cap, articles and number words, contractions, 's split off", () => {
    expect(processVqaAnswer(".".repeat(40))).toBe("........");
    expect(processVqaAnswer("The Two")).toBe("2");
    expect(processVqaAnswer("isnt")).toBe("isn't");
    expect(processVqaAnswer("it's")).toBe("it 's");
    expect(processVqaAnswer("1,000")).toBe("1000");
    expect(processVqaAnswer("3.5")).toBe("3.5");
  });

  it("scores min(1, matches/3) averaged over the 10 leave-one-out subsets, as the official loop does", () => {
    for (const [pred, golds, official] of reference.scores)
      expect(vqaScore(pred, golds)).toBeCloseTo(official, 14);
    // 1 of 10 humans agree: 9 subsets hold it (1/3 each), 1 does not.
    expect(vqaScore("yes", ["yes", ...Array(9).fill("no")])).toBeCloseTo(0.3, 14);
  });

  it("capitalises the question as Python's str.capitalize() (the rest lower-cased)", () => {
    expect(pyCapitalize("what does the NASA sign say?")).toBe("What does the nasa sign say?");
    expect(pyCapitalize("")).toBe("");
  });
});

describe("TextVQA loaders and summary", () => {
  const record = (id: number, answers: string[]) => ({
    question: "what is the brand of this CAMERA?",
    image_id: "003a8ae2ef43b901",
    image_classes: ["Camera"],
    image_width: 1024,
    image_height: 664,
    answers,
    question_tokens: ["what", "is", "the", "brand", "of", "this", "camera"],
    question_id: id,
    set_name: "val",
  });

  it("reads TextVQA_0.5.1_val.json with train_images/ and scores a run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textvqa-"));
    mkdirSync(join(dir, "train_images"));
    writeFileSync(join(dir, "train_images", "003a8ae2ef43b901.jpg"), "");
    const answers = [
      "nous les gosses",
      "dakota",
      "clos culombu",
      "dakota digital",
      "dakota",
      "dakota",
      "dakota digital",
      "dakota",
      "dakota",
      "dakota",
    ];
    writeFileSync(
      join(dir, "TextVQA_0.5.1_val.json"),
      JSON.stringify({
        dataset_type: "val",
        dataset_name: "textvqa",
        dataset_version: "0.5.1",
        data: [record(34602, answers), record(34603, answers)],
      }),
    );
    const items = await task.load(join(dir, "TextVQA_0.5.1_val.json"));
    expect(items[0]).toMatchObject({
      id: "34602",
      prompt: "What is the brand of this camera?\nAnswer the question using a single word or phrase.",
      images: [{ path: join(dir, "train_images", "003a8ae2ef43b901.jpg") }],
      fields: { imageId: "003a8ae2ef43b901", setName: "val" },
    });
    const verdicts = task.scoreAll(
      items.map((item, i) => ({ item, response: "", answer: i === 0 ? "Dakota." : "Dakota Digital" })),
    );
    expect(verdicts.map((v) => v.extracted)).toEqual(["dakota", "dakota digital"]);
    // "dakota": 6 of 10 agree → 1 everywhere; "dakota digital": 2 agree → (2 × 1/3 + 8 × 2/3) / 10 = 0.6.
    expect(verdicts[0]?.score).toBe(1);
    expect(verdicts[1]?.score).toBeCloseTo(0.6, 14);
    expect(task.summarize(items, verdicts)).toMatchObject({
      headline: 80,
      unit: "%",
      accuracy: 0.8,
      breakdowns: {},
    });
  });

  it("reads the hub's lmms-lab/textvqa validation shard (int64 question ids, image bytes)", async () => {
    const png = await tinyPng();
    const file = writeHubParquet(
      [
        { name: "image_id", kind: "string", data: ["003a8ae2ef43b901"] },
        { name: "question_id", kind: "int64", data: [34602n] },
        { name: "question", kind: "string", data: ["what is the brand of this camera?"] },
        { name: "image", kind: "image", data: [{ bytes: png, path: null }] },
        { name: "answers", kind: "strings", data: [Array(10).fill("dakota")] },
      ],
      "validation-00000-of-00003.parquet",
    );
    const [item] = await task.load(file);
    expect(item).toMatchObject({
      id: "34602",
      gold: Array(10).fill("dakota"),
      images: [{ bytes: png, mime: "image/png" }],
    });
  });

  it("a record whose answers are not a list of strings is an error naming file, record and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "textvqa-bad-"));
    const file = join(dir, "TextVQA_0.5.1_val.json");
    writeFileSync(file, JSON.stringify({ data: [{ ...record(1, []), answers: "dakota" }] }));
    await expect(task.load(file)).rejects.toThrow(
      `field 'answers' must be a non-empty list of strings, got "dakota" (at ${file}:data[0])`,
    );
  });

  it("fromRecord reads the release fields plus a response", () => {
    const { item, response } = task.fromRecord(
      { ...record(5, ["yes", "yes", "yes", "yes"]), response: "Yes" },
      1,
    );
    expect(item).toMatchObject({ id: "5", images: [] });
    expect(task.scoreAll([{ item, response, answer: response }])[0]?.score).toBe(1);
  });
});
