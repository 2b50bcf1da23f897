import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetWriteFile } from "hyparquet-writer";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractAnswer } from "../extract.ts";
import type { ItemVerdict } from "../types.ts";
import { createRefcocoTask, type RefcocoItem, task } from "./refcoco.ts";

const SAMPLE = join(import.meta.dirname, "../../../test/benchmarks/refcoco/refcoco-sample.jsonl");

/** Score answers against items the way a run does (answers already extracted). */
const score = (items: RefcocoItem[], answers: string[]): ItemVerdict[] =>
  task.scoreAll(items.map((item, i) => ({ item, response: answers[i]!, answer: answers[i]! })));

describe("refcoco: JSONL + image folder", () => {
  it("one item per expression, ids suffixed #k; sizes read from the images; gold [x,y,w,h] → corners", async () => {
    const items = await task.load(SAMPLE);
    expect(items.map((i) => i.id)).toEqual(["1001#0", "1001#1", "2002"]);
    expect(items[0]!.fields).toMatchObject({ width: 64, height: 48, split: "val", subset: "refcoco" });
    expect(items[0]!.gold).toEqual([6.4, 9.6, 6.4 + 12.8, 9.6 + 9.6]);
    expect(items[1]!.fields.expressions).toEqual(["the brown dog"]);
    // `file_name` resolves into images/ beside the JSONL.
    expect(items[2]!.images).toEqual([
      { path: expect.stringMatching(/images\/COCO_train2014_000000000025\.png$/) },
    ]);
    expect(items[2]!.fields).toMatchObject({ width: 80, height: 60 });
  });

  it("prompts: GLM's README grounding prompt by default, lmms-eval's JSON prompt on request", async () => {
    const [glm] = await task.load(SAMPLE);
    expect(glm!.prompt).toBe("Help me to locate left dog in the image and give me its bounding boxes.");
    const official = await createRefcocoTask({ prompt: "official", expressions: "joined" }).load(SAMPLE);
    expect(official.map((i) => i.id)).toEqual(["1001", "2002"]);
    expect(official[0]!.prompt).toBe(
      'Locate every object that matches the description "left dog", "the brown dog" in the image. Report bbox coordinates in JSON format.',
    );
  });

  it("a missing image names the record", async () => {
    const dir = await mkdtemp(join(tmpdir(), "refcoco-"));
    try {
      const file = join(dir, "bad.jsonl");
      await writeFile(
        file,
        `${JSON.stringify({ id: "x", file_name: "nope.png", expression: "a", bbox: [0, 0, 1, 1] })}\n`,
      );
      await expect(task.load(file)).rejects.toThrow(/nope\.png.*bad\.jsonl:\[0\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("refcoco: the hub's Parquet (lmms-lab/RefCOCO layout)", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "refcoco-hub-"));
    await mkdir(join(dir, "RefCOCOg", "data"), { recursive: true });
    const png = await sharp({ create: { width: 50, height: 40, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    parquetWriteFile({
      filename: join(dir, "RefCOCOg", "data", "val-00000-of-00001.parquet"),
      columnData: [
        { name: "question_id", data: ["49816"] },
        { name: "image", data: [{ bytes: new Uint8Array(png), path: "COCO_train2014_000000000077.jpg" }] },
        {
          name: "question",
          data: [
            "Please carefully observe the area circled in the image and come up with a caption for the area.",
          ],
        },
        { name: "answer", data: [["a man in a red shirt"]] },
        { name: "bbox", data: [[5, 4, 20, 16]] },
      ],
      schema: [
        { name: "root", num_children: 5 },
        { name: "question_id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "image", repetition_type: "OPTIONAL", num_children: 2 },
        { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
        { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "question", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "answer", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "bbox", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", type: "DOUBLE", repetition_type: "OPTIONAL" },
      ],
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Needs readRecords to keep binary columns as bytes (hyparquet `utf8: false`), or the bytes decode as text.
  it("reads the image bytes, their size, and the subset/split from the path", async () => {
    const [item, ...rest] = await task.load(join(dir, "RefCOCOg"));
    expect(rest).toEqual([]);
    expect(item!.id).toBe("49816#0");
    expect(item!.images[0]).toMatchObject({ mime: "image/png" });
    expect(item!.fields).toMatchObject({ width: 50, height: 40, subset: "refcocog", split: "val" });
    expect(item!.gold).toEqual([5, 4, 25, 20]);
  });
});

describe("refcoco: scoring", () => {
  let items: RefcocoItem[] = [];
  beforeAll(async () => {
    items = (await task.load(SAMPLE)).slice(0, 1); // 64×48 image, gold [6.4, 9.6, 19.2, 19.2] px
  });

  it("reads the box in 0–999 thousandths → pixels: an exact box scores 1", () => {
    // 6.4/64 = 0.1 → 100; 9.6/48 = 0.2 → 200; 19.2/64 = 0.3 → 300; 19.2/48 = 0.4 → 400.
    expect(score(items, ["[[100,200,300,400]]"])).toEqual([{ score: 1, extracted: "[100,200,300,400]" }]);
  });

  it("a box in absolute pixels is not re-read as pixels (lmms-eval would accept it; GLM writes thousandths)", () => {
    expect(score(items, ["[6.4, 9.6, 19.2, 19.2]"])[0]!.score).toBe(0);
  });

  it("of several boxes the one with the highest IoU is kept; no box is wrong with nothing extracted", () => {
    expect(score(items, ["[[600,600,900,900],[110,210,300,400]]"])).toEqual([
      { score: 1, extracted: "[110,210,300,400]" },
    ]);
    expect(score(items, ["no box"])).toEqual([{ score: 0, extracted: null }]);
  });

  it("a GLM response (thinking, answer, box tokens) is scored from its first box", () => {
    const response =
      "<think>The left dog sits at about [[90,190,290,390]]…</think><answer>The dog: <|begin_of_box|>[[100,200,300,400]]<|end_of_box|></answer>";
    const { answer } = extractAnswer(response, "auto", task.answerScope);
    expect(task.scoreAll([{ item: items[0]!, response, answer }])).toEqual([
      { score: 1, extracted: "[100,200,300,400]" },
    ]);
  });

  it("summary: Acc@0.5 headline in %, IoU mean, Acc@t and centre accuracy as figures", async () => {
    const all = await task.load(SAMPLE); // [0], [1]: gold [6.4,9.6,19.2,19.2] on 64×48; [2]: [40,30,60,45] on 80×60
    const answers = ["[[100,200,300,400]]", "[[100,200,250,400]]", "nothing"];
    const verdicts = score(all, answers);
    expect(verdicts.map((v) => v.score)).toEqual([1, 1, 0]);
    const summary = task.summarize(all, verdicts);
    expect(summary).toMatchObject({ metric: "Acc@0.5", unit: "%", accuracy: 2 / 3 });
    expect(summary.headline).toBeCloseTo(200 / 3, 12);
    const m = summary.breakdowns.metrics!;
    expect(m.IoU!.score).toBeCloseTo((1 + 0.75) / 3, 12);
    expect(m["ACC@0.7"]!.score).toBeCloseTo(2 / 3, 12);
    expect(m["ACC@0.9"]!.score).toBeCloseTo(1 / 3, 12);
    // lmms-eval scores "no box" as [0,0,0,0]: its centre (0,0) is outside the third gold box.
    expect(m.Center_ACC!.score).toBeCloseTo(2 / 3, 12);
    // The second record names no split; its subset comes from the file path (…/refcoco/refcoco-sample.jsonl).
    expect(summary.breakdowns.split).toEqual({
      "refcoco/val": { n: 2, score: 1 },
      refcoco: { n: 1, score: 0 },
    });
  });

  it("fromRecord rebuilds an item from its saved fields (no image read) and scores the same", async () => {
    const [item] = await task.load(SAMPLE);
    const saved = JSON.parse(
      JSON.stringify({ id: item!.id, ...item!.fields, response: "[[100,200,300,400]]" }),
    );
    const back = task.fromRecord(saved, 1);
    expect(back.item).toMatchObject({
      id: item!.id,
      gold: item!.gold,
      prompt: item!.prompt,
      fields: item!.fields,
    });
    expect(
      task.scoreAll([{ item: back.item, response: back.response, answer: back.response }])[0]!.score,
    ).toBe(1);
    expect(() => task.fromRecord({ ...saved, width: undefined }, 2)).toThrow(/image size.*line 2/);
  });
});
