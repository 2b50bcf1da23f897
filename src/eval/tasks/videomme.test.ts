import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractAnswer } from "../extract.ts";
import { task, type VideoMmeItem, videoMmePrompt } from "./videomme.ts";

const BENCH = join(import.meta.dirname, "../../../test/benchmarks/videomme");
const TEMPLATE = join(BENCH, "output_test_template.json");
const REFERENCE = JSON.parse(readFileSync(join(BENCH, "reference-extractions.json"), "utf8")) as {
  template: { question_id: string; extracted: string; correct: boolean; answered: boolean }[];
};
/** The template's own responses, by question id (the official results layout carries them). */
const RESPONSES = new Map(
  (JSON.parse(readFileSync(TEMPLATE, "utf8")) as { questions: { question_id: string; response: string }[] }[])
    .flatMap((v) => v.questions)
    .map((q) => [q.question_id, q.response]),
);

const scoreWith = (items: VideoMmeItem[], answers: string[]) =>
  task.scoreAll(items.map((item, i) => ({ item, response: answers[i]!, answer: answers[i]! })));

describe("videomme: the official results layout with frame folders", () => {
  it("flattens videos into questions with the video's duration, domain and sub-category", async () => {
    const items = await task.load(TEMPLATE);
    expect(items).toHaveLength(15);
    expect(items[0]).toMatchObject({
      id: "001-1",
      gold: "A",
      images: [],
      fields: {
        video_id: "001",
        duration: "short",
        domain: "Knowledge",
        sub_category: "Astronomy",
        task_type: "Object Reasoning",
      },
    });
  });

  it("frames come from frames/<video_id>/ in natural order (frame_2 before frame_10)", async () => {
    const [first] = await task.load(TEMPLATE);
    expect(
      first!.video!.frames.map((f) => ("path" in f ? f.path.split("/").slice(-2).join("/") : "")),
    ).toEqual(["001/frame_1.png", "001/frame_2.png", "001/frame_10.png"]);
  });

  it("the official Frames prompt: instruction, question, one option per line, 'The best answer is:'", async () => {
    const [first] = await task.load(TEMPLATE);
    expect(first!.prompt).toBe(
      [
        "Select the best answer to the following multiple-choice question based on the video. Respond with only the letter (A, B, C, or D) of the correct option.",
        "Which planet does the narrator say has the longest day?",
        "A. Venus.",
        "B. Mars.",
        "C. Jupiter.",
        "D. Mercury.",
        "The best answer is:",
      ].join("\n"),
    );
  });

  it("scores the template's responses as the official script does (reference verdicts)", async () => {
    const items = await task.load(TEMPLATE);
    const verdicts = scoreWith(
      items,
      items.map((i) => RESPONSES.get(i.id)!),
    );
    const want = new Map(REFERENCE.template.map((r) => [r.question_id, r]));
    items.forEach((item, i) => {
      const ref = want.get(item.id)!;
      expect(verdicts[i]).toEqual({
        score: ref.correct ? 1 : 0,
        extracted: ref.answered ? ref.extracted : null,
      });
    });
    const summary = task.summarize(items, verdicts);
    expect(summary.headline).toBeCloseTo((100 * 5) / 15, 12);
    // The official script's denominator: the 12 answered questions.
    expect(summary.breakdowns.extraction!.answered).toEqual({ n: 12, score: 5 / 12 });
    expect(summary.breakdowns.duration).toEqual({
      short: { n: 6, score: 2 / 6 },
      medium: { n: 3, score: 2 / 3 },
      long: { n: 6, score: 1 / 6 },
    });
  });
});

describe("videomme: scoring and summary", () => {
  it("a prefix-stripped answer scores; no letter is wrong and counts as unanswered", async () => {
    const items = (await task.load(TEMPLATE)).slice(0, 4); // gold A, D, A, C
    const verdicts = scoreWith(items, ["The best answer is A.", "The answer is (D)", "I am not sure.", "B"]);
    expect(verdicts).toEqual([
      { score: 1, extracted: "A" },
      { score: 1, extracted: "D" },
      { score: 0, extracted: null },
      { score: 0, extracted: "B" },
    ]);
    const summary = task.summarize(items, verdicts);
    expect(summary).toMatchObject({ headline: 50, metric: "accuracy", unit: "%", accuracy: 0.5 });
    // The official script's figure leaves the unanswered question out: 2 of 3.
    expect(summary.breakdowns.extraction).toEqual({
      answered: { n: 3, score: 2 / 3 },
      unanswered: { n: 1, score: 0 },
    });
    expect(summary.breakdowns.duration).toEqual({ short: { n: 4, score: 0.5 } });
    expect(summary.breakdowns.task_type!["Action Reasoning"]).toEqual({ n: 1, score: 0 });
  });

  it("a GLM response is scored from its box, never from letters in its thinking", async () => {
    const [item] = await task.load(TEMPLATE); // gold A
    const response =
      "<think>B and C are wrong; D too.</think><answer><|begin_of_box|>A<|end_of_box|></answer>";
    const { answer } = extractAnswer(response, "auto", task.answerScope);
    expect(task.scoreAll([{ item: item!, response, answer }])).toEqual([{ score: 1, extracted: "A" }]);
  });

  it("fromRecord reads a hub row (or saved fields) plus response, without frames", () => {
    const row = {
      video_id: "601",
      duration: "long",
      domain: "Sports Competition",
      sub_category: "Football",
      videoID: "abcDEF12345",
      question_id: "601-2",
      task_type: "Counting Problem",
      question: "How many goals are scored?",
      options: ["A. 1.", "B. 2.", "C. 3.", "D. 4."],
      answer: "B",
      response: "B. 2.",
    };
    const { item, response } = task.fromRecord(row, 7);
    expect(item).toMatchObject({
      id: "601-2",
      gold: "B",
      fields: { duration: "long", videoID: "abcDEF12345" },
    });
    expect(item.prompt).toBe(videoMmePrompt(row.question, row.options));
    expect(task.scoreAll([{ item, response, answer: response }])).toEqual([{ score: 1, extracted: "B" }]);
    expect(() => task.fromRecord({ ...row, options: "A. 1" }, 8)).toThrow(/options.*line 8/);
  });
});

describe("videomme: the hub layout (lmms-lab/Video-MME rows) with frames named by videoID", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "videomme-"));
    await mkdir(join(dir, "videomme"), { recursive: true });
    await mkdir(join(dir, "frames", "fFjv93ACGo8"), { recursive: true });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    await writeFile(join(dir, "frames", "fFjv93ACGo8", "00001.png"), png);
    const row = {
      video_id: "001",
      duration: "short",
      domain: "Knowledge",
      sub_category: "Humanity & History",
      url: "https://www.youtube.com/watch?v=fFjv93ACGo8",
      videoID: "fFjv93ACGo8",
      question_id: "001-1",
      task_type: "Counting Problem",
      question: "How many lanterns hang above the door?",
      options: ["A. One.", "B. Two.", "C. Three.", "D. Four."],
      answer: "C",
    };
    await writeFile(join(dir, "videomme", "test.jsonl"), `${JSON.stringify(row)}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("finds the release file in videomme/ and the frames one level up, under the YouTube id", async () => {
    const [item, ...rest] = await task.load(dir);
    expect(rest).toEqual([]);
    expect(item!.id).toBe("001-1");
    expect(item!.video!.frames).toEqual([{ path: join(dir, "frames", "fFjv93ACGo8", "00001.png") }]);
  });

  it("a video without frames is an error naming where it looked", async () => {
    await rm(join(dir, "frames", "fFjv93ACGo8"), { recursive: true, force: true });
    await expect(task.load(dir)).rejects.toThrow(/no frames folder for video fFjv93ACGo8/);
  });
});
