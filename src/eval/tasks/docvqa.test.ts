import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { anlsScore, levenshtein } from "../scoring/anls.ts";
import type { ScoringInput } from "../types.ts";
import { type DocVqaItem, docvqa, infovqa } from "./docvqa.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";

/**
 * (prediction, golds, ANLS) from lmms-eval `lmms_eval/api/metrics.py` `levenshtein_distance` + `anls`
 * (EvolvingLMMs-Lab/lmms-eval @ 008ddc8), transcribed to Python and run with python3 on these cases.
 */
const OFFICIAL: [string, string[], number][] = JSON.parse(
  '[["1998", ["1998"], 1.0], ["1/2/1998", ["1/2/98"], 0.75], ["19 98", ["1998"], 0.8], ["  abc", ["abd"], 0.8], ["abc", ["abd"], 0.6666666666666667], ["ITC Limited", ["itc limited", "ITC"], 1.0], ["itc", ["ITC Limited", "ITC"], 1.0], ["New  York", ["new york"], 1.0], ["new york\\n", ["New York"], 1.0], ["Straße", ["strasse"], 0.7142857142857143], ["STRASSE", ["straße"], 0.7142857142857143], ["ﬁle", ["file"], 0.5], ["", ["abc"], 0], ["", [""], 1.0], ["abc", [""], 0], ["completely different", ["1998"], 0], ["12.5%", ["12.5 %", "12.5"], 0.8333333333333334], ["$ 1,000", ["$1,000"], 0.8571428571428572], ["Tab\\there", ["tab here"], 1.0], ["half", ["halfway"], 0.5714285714285714], ["ha", ["halfway"], 0], ["haLFwa", ["halfway"], 0.8571428571428572], ["😀x", ["😀y"], 0.5], ["résumé", ["RESUME"], 0.6666666666666667], ["0.28", ["0.28", "28%"], 1.0], ["Dr. John Smith", ["John Smith", "Dr. John Smith, Ph.D."], 0.7142857142857143], ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ["xxxxxxxxxxxxxxxxxxxx"], 0.5], ["xxxxxxxxxxxxxxxxxxxxx", ["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"], 0.525]]',
);

describe("ANLS (lmms-eval api/metrics.py anls)", () => {
  it("reproduces the official value, to the last bit, on 28 cases", () => {
    expect(OFFICIAL.map(([p, g]) => [p, g, anlsScore(p, g)])).toEqual(OFFICIAL);
  });

  it("divides by the UN-normalised lengths: padding raises the score, unlike a normalised-length ANLS", () => {
    // dist("abc", "abd") = 1; lengths max(5, 3) with the padding vs max(3, 3) without.
    expect(anlsScore("  abc", ["abd"])).toBe(0.8);
    expect(anlsScore("abc", ["abd"])).toBeCloseTo(2 / 3, 15);
  });

  it("zeroes a similarity under 0.5 and keeps exactly 0.5", () => {
    expect(anlsScore("ha", ["halfway"])).toBe(0);
    expect(anlsScore("x".repeat(40), ["x".repeat(20)])).toBe(0.5);
  });

  it("counts code points, as Python does (an emoji is one character)", () => {
    expect(levenshtein("😀x", "😀y")).toBe(1);
    expect(anlsScore("😀x", ["😀y"])).toBe(0.5);
  });
});

const score = (items: DocVqaItem[], answers: string[]) =>
  docvqa.scoreAll(
    answers.map((answer, i) => ({ item: items[i], response: answer, answer }) as ScoringInput<DocVqaItem>),
  );

describe("DocVQA / InfoVQA loaders and summary", () => {
  it("reads the original val_v1.0.json with documents/ images and breaks ANLS down by question type", async () => {
    const dir = mkdtempSync(join(tmpdir(), "docvqa-"));
    mkdirSync(join(dir, "documents"));
    const data = [
      {
        questionId: 49153,
        question: "What is the ‘actual’ value per 1000, during the year 1975?",
        question_types: ["figure/diagram"],
        image: "documents/pybv0228_81.png",
        docId: 14465,
        ucsf_document_id: "pybv0228",
        ucsf_document_page_no: "81",
        answers: ["0.28"],
        data_split: "val",
      },
      {
        questionId: 24580,
        question: "What is name of university?",
        question_types: ["others", "layout"],
        image: "documents/nkbl0226_1.png",
        docId: 7027,
        ucsf_document_id: "nkbl0226",
        ucsf_document_page_no: "1",
        answers: [
          "university of california",
          "University of California",
          "university of california, san diego",
        ],
        data_split: "val",
      },
    ];
    writeFileSync(
      join(dir, "val_v1.0.json"),
      JSON.stringify({ dataset_name: "docvqa", dataset_split: "val", dataset_version: "1.0", data }),
    );
    const items = await docvqa.load(join(dir, "val_v1.0.json"));
    expect(items[0]).toMatchObject({
      id: "49153",
      prompt:
        "What is the ‘actual’ value per 1000, during the year 1975?\nAnswer the question using a single word or phrase.",
      gold: ["0.28"],
      images: [{ path: join(dir, "documents", "pybv0228_81.png") }],
      fields: { question_types: ["figure/diagram"] },
    });
    const summary = docvqa.summarize(items, score(items, ["0.28", "University of California San Diego"]));
    // "university of california san diego" vs "university of california, san diego": 1 edit over 35 characters.
    expect(summary.headline).toBeCloseTo((100 * (1 + (1 - 1 / 35))) / 2, 10);
    expect(summary).toMatchObject({ metric: "ANLS", unit: "×100" });
    expect(summary.breakdowns.question_types?.layout).toEqual({ n: 1, score: 1 - 1 / 35 });
    expect(summary.breakdowns.question_types?.["figure/diagram"]).toEqual({ n: 1, score: 1 });
  });

  it("reads InfographicVQA JSON with its images folder, and the hub Parquet shards (validation only)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "infovqa-"));
    const data = [
      {
        questionId: 65718,
        question: "What percentage of workers are not working from home?",
        image_local_name: "37313.jpeg",
        answers: ["77%"],
        data_split: "val",
        answer_type: ["single span"],
        evidence: ["Figure"],
        "operation/reasoning": [],
      },
    ];
    writeFileSync(
      join(dir, "infographicsVQA_val_v1.0_withQT.json"),
      JSON.stringify({ dataset_name: "infographicsVQA", data }),
    );
    const [info] = await infovqa.load(join(dir, "infographicsVQA_val_v1.0_withQT.json"));
    expect(info).toMatchObject({
      id: "65718",
      gold: ["77%"],
      images: [{ path: join(dir, "infographicsvqa_images", "37313.jpeg") }],
      fields: { answer_type: ["single span"], evidence: ["Figure"] },
    });

    const hub = mkdtempSync(join(tmpdir(), "docvqa-hub-"));
    const png = await tinyPng();
    const columns = (ids: string[], answers: (string[] | null)[]) => [
      { name: "questionId", kind: "string" as const, data: ids },
      { name: "question", kind: "string" as const, data: ids.map((id) => `question ${id}?`) },
      { name: "question_types", kind: "strings" as const, data: ids.map(() => ["handwritten"]) },
      { name: "image", kind: "image" as const, data: ids.map(() => ({ bytes: png, path: null })) },
      { name: "answers", kind: "strings" as const, data: answers },
    ];
    writeHubParquet(columns(["1", "2"], [["a"], ["b"]]), "validation-00000-of-00002.parquet", hub);
    writeHubParquet(columns(["3"], [["c"]]), "validation-00001-of-00002.parquet", hub);
    writeHubParquet(columns(["9"], [null]), "test-00000-of-00001.parquet", hub);
    const items = await docvqa.load(hub);
    expect(items.map((it) => [it.id, it.gold])).toEqual([
      ["1", ["a"]],
      ["2", ["b"]],
      ["3", ["c"]],
    ]);
    expect(items[0]?.images).toEqual([{ bytes: png, mime: "image/png" }]);
    // The answer-less test shard on its own is an error naming the field.
    await expect(docvqa.load(join(hub, "test-00000-of-00001.parquet"))).rejects.toThrow(
      "field 'answers' must be a non-empty list of strings, got null",
    );
  });

  it("fromRecord reads the release fields plus a response", () => {
    const { item, response } = infovqa.fromRecord(
      { questionId: 7, question: "q", answers: ["77%"], response: "77 %" },
      1,
    );
    expect(item).toMatchObject({ id: "7", gold: ["77%"], images: [] });
    expect(infovqa.scoreAll([{ item, response, answer: response }])[0]?.score).toBe(0.75);
  });
});
