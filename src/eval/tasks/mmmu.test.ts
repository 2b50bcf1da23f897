import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pyRound } from "../python/numbers.ts";
import { PyRandom } from "../python/random.ts";
import { parseJsonl } from "../records.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";
import { type MmmuItem, scoreMmmu, task } from "./mmmu.ts";
import { extractNumbers, type OpenToken, parseMultiChoiceResponse, parseOpenResponse } from "./mmmu-parse.ts";

type Reference = {
  overall: { num: number; correct: number; acc: number };
  subjects: Record<string, { num: number; acc: number }>;
  disciplines: Record<string, { num: number; acc: number }>;
  verdicts: Record<string, 0 | 1>;
  letters: Record<string, string>;
  randomDraws: string[];
};

const MODELS = ["llava1.5-13b", "qwen-vl"] as const;

function load(model: string) {
  const folder = `test/benchmarks/mmmu-val-${model}-outputs`;
  const path = join(folder, "responses.jsonl");
  const inputs = parseJsonl(readFileSync(path, "utf8"), path).map((record, i) => {
    const { item, response } = task.fromRecord(record, i + 1);
    return { item, response, answer: response };
  });
  const reference = JSON.parse(readFileSync(join(folder, "reference-verdicts.json"), "utf8")) as Reference;
  return { inputs, reference };
}

describe("MMMU val against the official parse-and-eval (900 items, seed 42, run order)", () => {
  it.each(MODELS)(
    "%s: every item's verdict, letter and random draw; overall, subjects, disciplines",
    (model) => {
      const { inputs, reference } = load(model);
      const verdicts = task.scoreAll(inputs);
      expect(Object.fromEntries(inputs.map((x, i) => [x.item.id, verdicts[i]?.score]))).toEqual(
        reference.verdicts,
      );
      const letters = Object.fromEntries(
        inputs.flatMap((x, i) =>
          x.item.fields.questionType === "multiple-choice" ? [[x.item.id, verdicts[i]?.extracted]] : [],
        ),
      );
      expect(letters).toEqual(reference.letters);
      const drawn = inputs
        .filter((_, i) => (verdicts[i] as { randomDraw?: boolean }).randomDraw)
        .map((x) => x.item.id);
      expect(drawn).toEqual(reference.randomDraws);

      const summary = task.summarize(
        inputs.map((x) => x.item),
        verdicts,
      );
      expect(pyRound(summary.accuracy as number, 3)).toBe(reference.overall.acc);
      expect(verdicts.reduce((t, v) => t + v.score, 0)).toBe(reference.overall.correct);
      const rounded = (rows: Record<string, { n: number; score: number }>) =>
        Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, { num: r.n, acc: pyRound(r.score, 3) }]));
      expect(rounded(summary.breakdowns.subject ?? {})).toEqual(reference.subjects);
      expect(rounded(summary.breakdowns.discipline ?? {})).toEqual(reference.disciplines);
    },
  );

  it("the draws depend on run order: scoring Qwen-VL's items reversed changes random verdicts only", () => {
    const { inputs, reference } = load("qwen-vl");
    const reversed = scoreMmmu([...inputs].reverse()).reverse();
    const random = new Set(reference.randomDraws);
    let changed = 0;
    inputs.forEach(({ item }, i) => {
      if (!random.has(item.id)) expect(reversed[i]?.score).toBe(reference.verdicts[item.id]);
      else if (reversed[i]?.extracted !== reference.letters[item.id]) changed++;
    });
    expect(changed).toBeGreaterThan(0);
  });
});

describe("MMMU parsers (expected values printed by the official functions under python3)", () => {
  const choices = ["A", "B", "C", "D"];
  const numbered = { A: "x", B: "y", C: "z", D: "w" };

  it("multiple choice: brackets, spaced letters, option text, last occurrence wins", () => {
    const r = new PyRandom(42);
    expect(parseMultiChoiceResponse("I think (A) or (C).", choices, numbered, r).letter).toBe("C");
    expect(parseMultiChoiceResponse("B is wrong, D is right", choices, numbered, r).letter).toBe("D");
    const cities = { A: "Lyon", B: "Paris", C: "Nice" };
    expect(
      parseMultiChoiceResponse(
        "the capital of france is paris and not lyon at all",
        ["A", "B", "C"],
        cities,
        r,
      ).letter,
    ).toBe("A");
    expect(parseMultiChoiceResponse("Answer: C.", choices, numbered, r).letter).toBe("C");
  });

  it("no candidate: random.choice from random.seed(42), one draw per such item", () => {
    const r = new PyRandom(42);
    const letters = Array.from({ length: 8 }, () =>
      parseMultiChoiceResponse("no idea", choices, numbered, r),
    );
    expect(letters.map((p) => p.letter).join("")).toBe("AACBBBAA");
    expect(letters.every((p) => p.randomDraw)).toBe(true);
  });

  it("open answers: key sub-responses, the three number patterns, normalize_str", () => {
    const sorted = (tokens: OpenToken[]) =>
      tokens
        .map((t) => [t.kind, t.value] as const)
        .sort((a, b) => (a[0] + String(a[1])).localeCompare(b[0] + String(b[1])));
    const cases: [string, (readonly [string, string | number])[]][] = [
      [
        "So the answer is 3,000.",
        [
          ["num", 0],
          ["num", 3000],
        ],
      ],
      ["The result is 1.5e3 and thus x = -2", [["num", -2]]],
      ["答案是 ٣٫٥ so 12", [["num", 12]]],
      [
        "It could be A. Therefore B",
        [
          ["str", " b"],
          ["str", "b "],
        ],
      ],
      [
        "final answer: 0.125\nso = 7",
        [
          ["num", 0.12],
          ["num", 7],
          ["str", "answer: 0.125"],
        ],
      ],
      ["is ", [["str", "is"]]],
      [
        "Thus the value is 1,234,567.891 m",
        [
          ["num", 1234567],
          ["num", 567.89],
          ["str", "1,234,567.891 m"],
        ],
      ],
      ["x=.5", [["num", 0.5]]],
      ["infinity", [["num", Number.POSITIVE_INFINITY]]],
      ["42nd street is 3.14159", [["num", 3.14]]],
    ];
    for (const [response, want] of cases)
      expect(sorted(parseOpenResponse(response)), response).toEqual(
        sorted(want.map(([kind, value]) => ({ kind, value }) as OpenToken)),
      );
    expect(extractNumbers("a 1,000 b 2.5e-3 c -7 d 3,14 e .5 f 12abc ١٢ g 1e5")).toEqual([
      "1,000",
      "2.5e-3",
      "1e5",
      "000",
      "2",
      "-3",
      "-7",
      "14",
      ".5",
      "١٢",
      "5",
    ]);
  });
});

describe("MMMU loading", () => {
  it("reads the hub layout: subject folders in the official order, options as a Python literal, image columns", async () => {
    const png = await tinyPng();
    const rows = (id: string, type: string, options: string, answer: string) => [
      { name: "id", kind: "string" as const, data: [id] },
      { name: "question", kind: "string" as const, data: ["<image 1> What is shown?"] },
      { name: "options", kind: "string" as const, data: [options] },
      { name: "image_1", kind: "image" as const, data: [{ bytes: png, path: "a.png" }] },
      { name: "image_2", kind: "image" as const, data: [null] },
      { name: "answer", kind: "string" as const, data: [answer] },
      { name: "question_type", kind: "string" as const, data: [type] },
    ];
    const root = mkdtempSync(join(tmpdir(), "glmv-mmmu-"));
    for (const subject of ["Art", "Accounting"]) mkdirSync(join(root, subject));
    const mc = rows("validation_Art_1", "multiple-choice", "['oil', \"artist's ink\"]", "B");
    writeHubParquet(mc, "validation-00000-of-00001.parquet", join(root, "Art"));
    const open = rows("validation_Accounting_1", "open", "[]", "['1.5', '3/2']");
    writeHubParquet(open, "validation-00000-of-00001.parquet", join(root, "Accounting"));
    const items = await task.load(root);
    expect(items.map((it) => it.id)).toEqual(["validation_Accounting_1", "validation_Art_1"]);
    const [accounting, art1] = items as [MmmuItem, MmmuItem];
    expect(accounting.gold).toEqual(["1.5", "3/2"]);
    expect(accounting.prompt).toBe(
      "<image 1> What is shown?\nAnswer the question using a single word or phrase.",
    );
    expect(art1.prompt).toBe(
      "<image 1> What is shown?\n(A) oil\n(B) artist's ink\n\nAnswer with the option's letter from the given choices directly.",
    );
    expect(art1.fields.index2ans).toEqual({ A: "oil", B: "artist's ink" });
    expect(art1.images).toEqual([{ bytes: png, mime: "image/png" }]);
    expect(art1.fields.subject).toBe("Art");
    const verdicts = task.scoreAll([
      { item: accounting, response: "It is 1.50", answer: "It is 1.50" },
      { item: art1, response: "(B)", answer: "(B)" },
    ]);
    expect(verdicts.map((v) => v.score)).toEqual([1, 1]);
  });
});
