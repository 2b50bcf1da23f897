import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ai2dFilter } from "../scoring/mcq.ts";
import type { ScoringInput } from "../types.ts";
import { type Ai2dItem, task } from "./ai2d.ts";
import { writeHubParquet } from "./hub-parquet.fixture.ts";

/** The 10 real AI2D items (with their images) that MMMU-Pro's tool folder ships. */
const MMMU_PRO = resolve(import.meta.dirname, "../../../test/benchmarks/mmmu-pro");
const ai2dRows = readFileSync(join(MMMU_PRO, "data.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.includes("ai2d_"))
  .map((l) => JSON.parse(l) as { question: string; options: string[]; answer: string; image_1: string });

/**
 * (response, filtered, exact_match vs gold "B") from lmms-eval's ai2d `MultiChoiceRegexFilter` (`^\s*([A-Z])\.`)
 * and `exact_match_hf_evaluate(ignore_case=True, ignore_punctuation=True)`, transcribed to Python and run with python3.
 */
const OFFICIAL: [string, string, number][] = JSON.parse(
  '[["B", "B", 1.0], ["B.", "B", 1.0], ["B. Zygote", "B", 1.0], [" B.", "B", 1.0], ["\\tB. x", "B", 1.0], ["(B)", "(B)", 1.0], ["b", "b", 1.0], ["b.", "b.", 1.0], ["Zygote", "Zygote", 0.0], ["The answer is B", "The answer is B", 0.0], ["Answer: B", "Answer: B", 0.0], ["B)", "B)", 1.0], ["**B**", "**B**", 1.0], ["B\\n", "B\\n", 0.0], ["B,", "B,", 1.0], ["B. \\n", "B", 1.0], ["[B]", "[B]", 1.0], ["B:", "B:", 1.0], ["B .", "B .", 0.0], ["A. Polyp forming\\nB. Zygote", "A", 0.0], ["C", "C", 0.0], ["BB", "BB", 0.0], ["B C", "B C", 0.0], ["\'B\'", "\'B\'", 1.0], ["B!", "B!", 1.0], ["B?", "B?", 1.0], ["\\u00a0B.", "B", 1.0], ["\\u3000B.", "B", 1.0], ["B\\u3002", "B\\u3002", 0.0], ["Option B", "Option B", 0.0], ["", "", 0.0], ["b) Zygote", "b) Zygote", 0.0], ["B-", "B-", 1.0], ["{B}", "{B}", 1.0], ["B. (the zygote)", "B", 1.0], ["\\uff22", "\\uff22", 0.0], ["B\\u00a0", "B\\u00a0", 0.0]]',
);

const item = (over: Partial<Ai2dItem> = {}): Ai2dItem => ({
  id: "0",
  prompt: "",
  images: [],
  gold: "B",
  fields: { options: ["Polyp forming", "Zygote", "Branching", "Planula"] },
  ...over,
});

describe("AI2D letters (lmms-eval ai2d filter + exact_match)", () => {
  it("agrees with the official filter and exact match on 37 responses", () => {
    const verdicts = task.scoreAll(OFFICIAL.map(([r]) => ({ item: item(), response: r, answer: r })));
    expect(OFFICIAL.map(([r], i) => [r, verdicts[i]?.extracted, verdicts[i]?.score])).toEqual(OFFICIAL);
  });

  it("the filter needs a capital letter and a period at the start; punctuation is ignored only by the match", () => {
    expect(ai2dFilter("  C. Branching")).toBe("C");
    expect(ai2dFilter("c. branching")).toBe("c. branching");
    const [paren, sentence] = task.scoreAll(
      ["(b)", "B is right"].map((a) => ({ item: item(), response: a, answer: a })),
    );
    expect(paren?.score).toBe(1);
    expect(sentence?.score).toBe(0);
  });

  it("builds lmms-eval's mcq prompt", async () => {
    const file = writeHubParquet([
      { name: "question", kind: "string", data: ["Ovum and sperm make what?"] },
      { name: "options", kind: "strings", data: [["Polyp forming", "Zygote", "Branching", "Planula"]] },
      { name: "answer", kind: "string", data: ["1"] },
    ]);
    const [first] = await task.load(file);
    expect(first?.prompt).toBe(
      "Ovum and sperm make what?\nA. Polyp forming\nB. Zygote\nC. Branching\nD. Planula\nAnswer with the option's letter from the given choices directly.",
    );
    expect(first?.gold).toBe("B");
  });
});

describe("AI2D loaders", () => {
  it("reads a hub lmms-lab/ai2d Parquet of the 10 real items with their real PNG bytes", async () => {
    const images = ai2dRows.map((r) => new Uint8Array(readFileSync(join(MMMU_PRO, r.image_1))));
    const file = writeHubParquet([
      { name: "question", kind: "string", data: ai2dRows.map((r) => r.question.replace("<image 1> ", "")) },
      { name: "options", kind: "strings", data: ai2dRows.map((r) => r.options) },
      { name: "answer", kind: "string", data: ai2dRows.map((r) => String("ABCD".indexOf(r.answer))) },
      { name: "image", kind: "image", data: images.map((bytes) => ({ bytes, path: null })) },
    ]);
    const items = await task.load(file);
    expect(items).toHaveLength(10);
    expect(items.map((it) => it.gold)).toEqual(ai2dRows.map((r) => r.answer));
    expect(items.map((it) => it.id)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(items[0]?.images).toEqual([{ bytes: images[0], mime: "image/png" }]);
    // Answers: right as "X. text" for the first 6, a wrong letter for the rest.
    const answers = items.map((it, i) =>
      i < 6 ? `${it.gold}. ${it.fields.options["ABCD".indexOf(it.gold)]}` : it.gold === "A" ? "B" : "A",
    );
    const verdicts = task.scoreAll(
      items.map(
        (it, i) => ({ item: it, response: answers[i], answer: answers[i] }) as ScoringInput<Ai2dItem>,
      ),
    );
    expect(task.summarize(items, verdicts)).toMatchObject({ headline: 60, unit: "%", accuracy: 0.6 });
  });

  it("reads JSONL records with a letter answer and an image path", async () => {
    const items = await task.load(join(MMMU_PRO, "data.jsonl"));
    const ai2d = items.filter((it) => (it.images[0] as { path: string }).path.includes("ai2d_"));
    expect(ai2d).toHaveLength(10);
    expect(ai2d[0]?.images).toEqual([{ path: join(MMMU_PRO, "images", "ai2d_00002168.png") }]);
  });

  it("an answer that is no option is an error naming the file, record and field", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ai2d-")), "test.jsonl");
    writeFileSync(file, `${JSON.stringify({ question: "q", options: ["a", "b"], answer: "3" })}\n`);
    await expect(task.load(file)).rejects.toThrow(
      `field 'answer' must be an option index or letter of 2 options, got "3" (at ${file}:[0])`,
    );
  });

  it("fromRecord takes the record's id and response", () => {
    const { item: it, response } = task.fromRecord(
      { id: "ai2d-7", question: "q", options: ["x", "y"], answer: "0", response: "A." },
      2,
    );
    expect(it).toMatchObject({ id: "ai2d-7", gold: "A", images: [] });
    expect(response).toBe("A.");
  });
});
