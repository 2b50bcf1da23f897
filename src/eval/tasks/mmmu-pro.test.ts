import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PyRandom } from "../python/random.ts";
import { parseJsonl } from "../records.ts";
import { tinyPng, writeHubParquet } from "./hub-parquet.fixture.ts";
import { type MmmuProItem, mmmuProTask, parseMmmuProResponse, task } from "./mmmu-pro.ts";

const FOLDER = "test/benchmarks/mmmu-pro-gpt4o-outputs";
const FILES: Record<string, string[]> = {
  "standard10-cot": ["standard10-cot.part1.jsonl", "standard10-cot.part2.jsonl"],
  "standard10-direct": ["standard10-direct.jsonl"],
  "vision-cot": ["vision-cot.part1.jsonl", "vision-cot.part2.jsonl"],
  "vision-direct": ["vision-direct.jsonl"],
};

type Setting = {
  total: number;
  correctExcludingRandom: number;
  verdicts: Record<string, 0 | 1>;
  letters: Record<string, string>;
  randomDraws: string[];
  spotChecked: Record<string, [string, 0 | 1]>;
};
const REFERENCE = JSON.parse(readFileSync(join(FOLDER, "reference-verdicts.json"), "utf8")) as {
  settings: Record<string, Setting>;
};

function run(name: string) {
  const lines = (FILES[name] ?? []).flatMap((f) =>
    readFileSync(join(FOLDER, f), "utf8").split("\n").filter(Boolean),
  );
  return parseJsonl(lines.join("\n"), name).map((record, i) => {
    const { item, response } = task.fromRecord(record, i + 1);
    return { item, response, answer: response };
  });
}

describe("MMMU-Pro against evaluate.py on GPT-4o's outputs (4 × 1730 items)", () => {
  it.each(Object.keys(FILES))("%s: every item not decided by the unseeded random draw", (name) => {
    const reference = REFERENCE.settings[name] as Setting;
    const inputs = run(name);
    expect(inputs).toHaveLength(reference.total);
    const verdicts = task.scoreAll(inputs);
    const drawn: string[] = [];
    const letters: Record<string, string | null> = {};
    const scores: Record<string, number> = {};
    inputs.forEach(({ item }, i) => {
      const verdict = verdicts[i] as { score: number; extracted: string | null; randomDraw?: boolean };
      if (verdict.randomDraw) {
        drawn.push(item.id);
        return;
      }
      letters[item.id] = verdict.extracted;
      scores[item.id] = verdict.score;
    });
    expect(drawn).toEqual(reference.randomDraws);
    expect(letters).toEqual(reference.letters);
    const random = new Set(reference.randomDraws);
    expect(scores).toEqual(
      Object.fromEntries(Object.entries(reference.verdicts).filter(([id]) => !random.has(id))),
    );
    expect(Object.values(scores).reduce((t, s) => t + s, 0)).toBe(reference.correctExcludingRandom);
    for (const [id, [letter, right]] of Object.entries(reference.spotChecked)) {
      const i = inputs.findIndex((x) => x.item.id === id);
      expect([verdicts[i]?.extracted, verdicts[i]?.score], id).toEqual([letter, right]);
    }
  });

  it("standard10-cot has no random item, so its overall accuracy is the official one: 952 / 1730", () => {
    const inputs = run("standard10-cot");
    const summary = task.summarize(
      inputs.map((x) => x.item),
      task.scoreAll(inputs),
    );
    expect(summary.accuracy).toBe(952 / 1730);
    expect(summary.breakdowns.setting).toEqual({ standard: { n: 1730, score: 952 / 1730 } });
    expect(Object.values(summary.breakdowns.discipline ?? {}).reduce((t, r) => t + r.n, 0)).toBe(1730);
  });
});

describe("MMMU-Pro parser (evaluate.py, not MMMU's)", () => {
  const letters = [..."ABCDEFGHIJ"];
  const index2ans = Object.fromEntries(letters.map((l) => [l, `option ${l.toLowerCase()}`]));

  it("a unique letter after the last 'Answer:' wins; several fall through to the bracket rules", () => {
    const r = new PyRandom(42);
    expect(parseMmmuProResponse("(B) looks right.\nAnswer: C", letters, index2ans, r).letter).toBe("C");
    expect(parseMmmuProResponse("Answer: (F)A. 4.66%; B. 6.20%", letters, index2ans, r).letter).toBe("F");
  });

  it("'X ' needs no leading space (so 'J. A dramatic…' parses as A), then 'X.'", () => {
    const r = new PyRandom(42);
    expect(parseMmmuProResponse("J. A dramatic increase in migration", letters, index2ans, r).letter).toBe(
      "A",
    );
    expect(parseMmmuProResponse("I'm sorry, I can't help with that.", letters, index2ans, r).letter).toBe(
      "I",
    );
    expect(parseMmmuProResponse("**A.**", letters, index2ans, r).letter).toBe("A");
  });

  it("an API error object scores as the empty response (a random draw)", () => {
    const record = { id: "test_Art_1", answer: "A", options: "['x', 'y']", response: { error: "timeout" } };
    const { item, response } = task.fromRecord(record, 1);
    expect(response).toBe("");
    const [verdict] = task.scoreAll([{ item, response, answer: response }]);
    expect(verdict).toMatchObject({ randomDraw: true });
  });
});

describe("MMMU-Pro loading and prompts", () => {
  it("reads the hub's standard and vision layouts with the prompts of infer_gpt.py", async () => {
    const png = await tinyPng();
    const standard = writeHubParquet([
      { name: "id", kind: "string", data: ["test_Art_113"] },
      { name: "question", kind: "string", data: ["<image 1> was painted by which artist?"] },
      { name: "options", kind: "string", data: ["['James Irvine', \"O'Neil\"]"] },
      { name: "image_1", kind: "image", data: [{ bytes: png, path: null }] },
      { name: "image_2", kind: "image", data: [null] },
      { name: "answer", kind: "string", data: ["A"] },
      { name: "subject", kind: "string", data: ["Art"] },
    ]);
    const [item] = await mmmuProTask("direct").load(standard);
    expect(item?.prompt).toBe(
      "<image> was painted by which artist?\nA. James Irvine\nB. O'Neil\nAnswer with the option letter from the given choices directly.",
    );
    expect(item?.images).toEqual([{ bytes: png, mime: "image/png" }]);
    expect(item?.fields).toEqual({
      options: ["James Irvine", "O'Neil"],
      subject: "Art",
      setting: "standard",
    });

    const vision = writeHubParquet([
      { name: "id", kind: "string", data: ["test_Art_113"] },
      { name: "image", kind: "image", data: [{ bytes: png, path: null }] },
      { name: "options", kind: "string", data: ["['James Irvine', \"O'Neil\"]"] },
      { name: "answer", kind: "string", data: ["A"] },
      { name: "subject", kind: "string", data: ["Art"] },
    ]);
    const [photo] = (await task.load(vision)) as MmmuProItem[];
    expect(photo?.fields.setting).toBe("vision");
    expect(
      photo?.prompt.startsWith("Write out the multiple-choice question in the image and then solve it."),
    ).toBe(true);
    expect(photo?.images).toHaveLength(1);
  });
});
