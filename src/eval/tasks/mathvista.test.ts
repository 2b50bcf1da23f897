import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJsonl } from "../records.ts";
import type { ScoringInput } from "../types.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";
import { type MathVistaItem, scoreMathVista, summarizeMathVista, task } from "./mathvista.ts";
import { extractByRules, normalizeExtraction } from "./mathvista-rules.ts";

const OUTPUTS = "test/benchmarks/mathvista-testmini-outputs";
const MODELS = [
  "llava-llama-2-13b",
  "bard",
  "idefics-9b-instruct",
  "instructblip-vicuna-13b",
  "mplug-owl-7b-ft",
  "gpt4-2shot-code",
] as const;

type Official = {
  scores: Record<string, Record<string, number | Record<string, [number, number]>>>;
  verdicts: Record<string, Record<string, 0 | 1>>;
  spotChecked: Record<string, Record<string, 0 | 1>>;
  releaseCodeDiffers: { model: string; pid: string; official: 0 | 1; releaseCode: 0 | 1 }[];
};
const OFFICIAL = JSON.parse(readFileSync(join(OUTPUTS, "official-verdicts.json"), "utf8")) as Official;

/** The results file's items with `answer` = the raw response (these outputs carry no GLM markers). */
function run(model: string): ScoringInput<MathVistaItem>[] {
  const path = join(OUTPUTS, `${model}.jsonl`);
  return parseJsonl(readFileSync(path, "utf8"), path).map((record, i) => {
    const { item, response } = task.fromRecord(record, i + 1);
    return { item, response, answer: response };
  });
}

describe("MathVista against the official results files (6 models × 1000 testmini items)", () => {
  it.each(MODELS)("%s: every item's verdict and every row of the official scores file", (model) => {
    const inputs = run(model);
    const verdicts = scoreMathVista(inputs, { quickExtract: true, integerRule: "results-2023" });
    const got = Object.fromEntries(inputs.map((x, i) => [x.item.id, verdicts[i]?.score]));
    expect(got).toEqual(OFFICIAL.verdicts[model]);
    for (const [pid, official] of Object.entries(OFFICIAL.spotChecked[model] ?? {}))
      expect(got[pid]).toBe(official);

    const summary = summarizeMathVista(
      inputs.map((x) => x.item),
      verdicts,
    );
    const scores = OFFICIAL.scores[model] as Official["scores"][string];
    expect(Math.round(summary.headline * 10)).toBe(scores.average); // correct out of 1000
    for (const [key, rows] of Object.entries(scores)) {
      if (key === "average") continue;
      const mine = Object.fromEntries(
        Object.entries(summary.breakdowns[key] ?? {}).map(([value, row]) => [
          value,
          [Math.round(row.n * row.score), row.n],
        ]),
      );
      expect(mine, key).toEqual(rows);
    }
  });

  it("the released code (task.scoreAll) departs from the official verdicts only on the listed integer items", () => {
    for (const model of MODELS) {
      const inputs = run(model);
      const verdicts = task.scoreAll(inputs);
      const listed = new Map(
        OFFICIAL.releaseCodeDiffers.filter((d) => d.model === model).map((d) => [d.pid, d.releaseCode]),
      );
      const got = Object.fromEntries(inputs.map(({ item }, i) => [item.id, verdicts[i]?.score]));
      const want = Object.fromEntries(
        inputs.map(({ item }) => [item.id, listed.get(item.id) ?? OFFICIAL.verdicts[model]?.[item.id]]),
      );
      expect(got, model).toEqual(want);
    }
    expect(OFFICIAL.releaseCodeDiffers).toHaveLength(14);
  });
});

describe("MathVista prompts and loading", () => {
  it("builds data/query.json's prompt from testmini.json (hint, question with unit, choices)", async () => {
    const items = await task.load("test/benchmarks/mathvista/testmini.json");
    expect(items).toHaveLength(1000);
    const byId = new Map(items.map((it) => [it.id, it]));
    expect(byId.get("2")?.prompt).toBe(
      "Hint: Please answer the question requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end.\nQuestion: what is the total volume of the measuring cup? (Unit: g)",
    );
    expect(byId.get("7")?.prompt).toBe(
      "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\nQuestion: What time is shown? Answer by typing a time word, not a number. It is (_) after eight.\nChoices:\n(A) half\n(B) quarter\n(C) o'clock\n(D) quarter to\n(E) quarter past",
    );
    expect(byId.get("3")?.prompt.endsWith("Choices:\n(A) 135°\n(B) 140°\n(C) 145°\n(D) 150°")).toBe(true);
    const first = byId.get("1");
    expect(
      first?.prompt.startsWith(
        "Hint: Please answer the question requiring a floating-point number with one decimal place",
      ),
    ).toBe(true);
    expect(first?.gold).toBe("1.2");
    expect(first?.images).toEqual([{ path: join("test/benchmarks/mathvista", "images/1.jpg") }]);
    expect(first?.fields.metadata.source).toBe("SciBench");
  });

  it("reads the hub's Parquet layout: the testmini shards, decoded_image bytes, the query column", async () => {
    const png = await tinyPng();
    const columns = (pid: string) => [
      { name: "pid", kind: "string" as const, data: [pid] },
      { name: "question", kind: "string" as const, data: ["Which is larger?"] },
      { name: "image", kind: "string" as const, data: [`images/${pid}.jpg`] },
      { name: "decoded_image", kind: "image" as const, data: [{ bytes: png, path: null }] },
      { name: "choices", kind: "strings" as const, data: [["3", "5"]] },
      { name: "unit", kind: "string" as const, data: [null] },
      { name: "precision", kind: "int64" as const, data: [0n] },
      { name: "answer", kind: "string" as const, data: ["5"] },
      { name: "question_type", kind: "string" as const, data: ["multi_choice"] },
      { name: "answer_type", kind: "string" as const, data: ["text"] },
      { name: "query", kind: "string" as const, data: ["the query column"] },
    ];
    const file = writeHubParquet(columns("1"), "testmini-00000-of-00001.parquet");
    writeHubParquet(columns("999"), "test-00000-of-00001.parquet", join(file, ".."));
    const items = await task.load(join(file, ".."));
    expect(items.map((it) => it.id)).toEqual(["1"]);
    expect(items[0]?.prompt).toBe("the query column");
    expect(items[0]?.images).toEqual([{ bytes: png, mime: "image/png" }]);
    const [verdict] = task.scoreAll([{ item: items[0] as MathVistaItem, response: "(B)", answer: "(B)" }]);
    expect(verdict).toEqual({ score: 0, extracted: null, needsJudge: true });
  });
});

describe("MathVista rules", () => {
  const mc = {
    questionType: "multi_choice",
    answerType: "text",
    choices: ["145°", "150°", "quarter"],
    precision: null,
  };
  const int = { questionType: "free_form", answerType: "integer", choices: null, precision: null };
  const float2 = { questionType: "free_form", answerType: "float", choices: null, precision: 2 };
  const rules = { quickExtract: true, integerRule: "release" as const };

  it("extracts without GPT only where extract_answer.py's rules do", () => {
    expect(extractByRules("150°", mc, rules)).toEqual({ extraction: "150°" });
    expect(extractByRules(" 1_2 ", int, rules)).toEqual({ extraction: "12" });
    expect(extractByRules("3.0", int, rules)).toEqual({ needsJudge: true });
    expect(extractByRules("1.50", float2, rules)).toEqual({ extraction: "1.5" });
    expect(extractByRules('So: The answer is "1.46".', float2, rules)).toEqual({ extraction: "1.46" });
    expect(extractByRules('The answer is "1.46".', float2, { ...rules, quickExtract: false })).toEqual({
      needsJudge: true,
    });
    expect(extractByRules("", int, rules)).toEqual({ extraction: "" });
  });

  it("normalises as calculate_score.py: letters, nearest choice, Python int/round/str", () => {
    expect(normalizeExtraction("(b) 150", mc)).toBe("150°");
    expect(normalizeExtraction(" C ", mc)).toBe("quarter");
    expect(normalizeExtraction("There is no answer", mc)).toBe("quarter"); // least edit distance
    expect(normalizeExtraction("", mc)).toBe("145°"); // ties go to the first choice
    expect(normalizeExtraction("96.8", int)).toBe("96");
    expect(normalizeExtraction("96.8", int, "results-2023")).toBeNull();
    expect(normalizeExtraction("N/A", int)).toBeNull();
    expect(normalizeExtraction("2.675", float2)).toBe("2.67"); // half-even on the binary value
    expect(normalizeExtraction("1e-5", float2)).toBe("0.0");
    expect(normalizeExtraction([2014, 2016], { ...int, answerType: "list" })).toBe("[2014, 2016]");
  });

  it("scores a GLM box as the extraction, and a results file's extraction before the response", () => {
    const [item] = run("bard").map((x) => x.item);
    const base = {
      ...(item as MathVistaItem),
      fields: { ...(item as MathVistaItem).fields, extraction: undefined },
    };
    const box = task.scoreAll([
      { item: base, response: "<think>…</think><answer>1.2</answer>", answer: "1.2" },
    ]);
    expect(box[0]).toEqual({ score: 1, extracted: "1.2" });
    const plain = task.scoreAll([{ item: base, response: "I think 1.2 m", answer: "I think 1.2 m" }]);
    expect(plain[0]?.needsJudge).toBe(true);
    const saved = task.scoreAll([
      { item: { ...base, fields: { ...base.fields, extraction: "1.23" } }, response: "x", answer: "x" },
    ]);
    expect(saved[0]).toEqual({ score: 1, extracted: "1.2" });
  });
});
