import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { extractVideoMmeLetter } from "./videomme-answer.ts";

const REFERENCE = JSON.parse(
  readFileSync(
    join(import.meta.dirname, "../../../test/benchmarks/videomme/reference-extractions.json"),
    "utf8",
  ),
) as { edge: { response: string; extracted: string }[] };

describe("extract_characters_regex against its Python (reference extractions)", () => {
  it.each(REFERENCE.edge.map((e) => [e.response, e.extracted] as const))("%j → %j", (response, extracted) => {
    expect(extractVideoMmeLetter(response)).toBe(extracted);
  });
});

describe("extractVideoMmeLetter", () => {
  it("strips the answer prefixes, then takes the first A–D", () => {
    expect(extractVideoMmeLetter("The best answer is C.")).toBe("C");
    expect(extractVideoMmeLetter("The correct answer is B. Because A is a distractor.")).toBe("B");
  });
  it("a response with no capital A–D has no answer", () => {
    expect(extractVideoMmeLetter("answer: c")).toBe("");
    expect(extractVideoMmeLetter("None of the options fit.")).toBe("");
    expect(extractVideoMmeLetter("E")).toBe("");
  });
  it("keeps the official quirks: capitals inside words, and the two concatenated prefixes", () => {
    expect(extractVideoMmeLetter("Dance")).toBe("D");
    expect(extractVideoMmeLetter("The Answer: C")).toBe("A");
    expect(extractVideoMmeLetter("Best answer: C")).toBe("B");
    expect(extractVideoMmeLetter("Best answer:Best option: C")).toBe("C");
  });
});
