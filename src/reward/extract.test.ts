import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkOfficialFormat,
  extractOfficial,
  findBoxes,
  scanBoxedSpans,
  scanTokenSpans,
} from "./extract.ts";

const B = "<|begin_of_box|>";
const E = "<|end_of_box|>";

describe("findBoxes: boxed", () => {
  it("returns every top-level \\boxed{} content with nested braces balanced", () => {
    expect(findBoxes("so \\boxed{\\frac{1}{2}} and \\boxed{x^{2}}")).toEqual(["\\frac{1}{2}", "x^{2}"]);
  });

  it("keeps an inner \\boxed literally in the outer content", () => {
    expect(findBoxes("\\boxed{\\boxed{\\boxed{42}}}")).toEqual(["\\boxed{\\boxed{42}}"]);
  });

  it("prefers \\boxed over box tokens when both exist", () => {
    expect(findBoxes(`${B}3${E} then \\boxed{4}`)).toEqual(["4"]);
  });

  it("treats an unclosed \\boxed{ as no box and falls back to tokens", () => {
    expect(findBoxes(`\\boxed{4 ${B}5${E}`)).toEqual(["5"]);
  });

  it("ignores stray closing braces before and after a box", () => {
    expect(findBoxes("} x } \\boxed{7} }")).toEqual(["7"]);
  });

  it("gives an empty string for an empty box", () => {
    expect(findBoxes("\\boxed{}")).toEqual([""]);
  });
});

describe("findBoxes: box tokens", () => {
  it("pairs tokens with a stack and keeps inner tokens in the outer content", () => {
    expect(findBoxes(`${B}a${B}b${E}c${E} ${B}d${E}`)).toEqual([`a${B}b${E}c`, "d"]);
  });

  it("gives nothing for an unmatched begin, even with a closed pair inside it", () => {
    expect(findBoxes(`${B}x ${B}y${E}`)).toEqual([]);
  });

  it("ignores a stray end token before a pair", () => {
    expect(findBoxes(`${E} ${B} 9 ${E}`)).toEqual(["9"]);
  });
});

describe("scanners", () => {
  it("count all depths and unclosed openers", () => {
    const tokens = scanTokenSpans(`${B}a${B}b${E}${E}${B}`);
    expect(tokens.complete).toHaveLength(2);
    expect(tokens.unclosed).toBe(1);
    const boxed = scanBoxedSpans("\\boxed{\\boxed{1}} \\boxed{");
    expect(boxed.complete).toHaveLength(2);
    expect(boxed.unclosed).toBe(1);
  });

  it("never throw on arbitrary text, including token and brace fragments", () => {
    const piece = fc.constantFrom(B, E, "\\boxed{", "{", "}", "<think>", "</answer>", "a", " ", "\n");
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string()), { maxLength: 40 }), (parts) => {
        const text = parts.join("");
        expect(Array.isArray(findBoxes(text))).toBe(true);
        expect(typeof checkOfficialFormat(text)).toBe("boolean");
        for (const p of ["p1", "p2a", "p2b"] as const) extractOfficial(text, p);
      }),
    );
  });

  it("stay linear on adversarial megabyte inputs (many openers, one far closer)", () => {
    const opens = `${"\\boxed{".repeat(150_000)}x}`;
    expect(findBoxes(opens)).toEqual(["x"]);
    const tokens = `${B.repeat(60_000)}y${E}`;
    expect(findBoxes(tokens)).toEqual([]);
    const braces = `${"{".repeat(500_000)}${"}".repeat(500_000)}`;
    expect(findBoxes(braces)).toEqual([]);
  });
});

describe("checkOfficialFormat", () => {
  it("accepts the GLM-4.1V shape with one token box", () => {
    expect(checkOfficialFormat(`<think>r</think>\n<answer>${B}42${E}</answer>`)).toBe(true);
  });

  it("matches tags case-insensitively and allows one final newline like Python's $", () => {
    expect(checkOfficialFormat("<THINK>r</THINK><Answer>1</Answer>\n")).toBe(true);
    expect(checkOfficialFormat("<think>r</think><answer>1</answer>\n\n")).toBe(false);
  });

  it("rejects nested tags, legacy boxed, two box tokens, and text outside", () => {
    expect(checkOfficialFormat("<think>a</think>b</think><answer>1</answer>")).toBe(false);
    expect(checkOfficialFormat("<think>r</think><answer>1</answer><answer>2</answer>")).toBe(false);
    expect(checkOfficialFormat("<think>r</think><answer>\\boxed{1}</answer>")).toBe(false);
    expect(checkOfficialFormat(`<think>r</think><answer>${B}1${B}</answer>`)).toBe(false);
    expect(checkOfficialFormat("x<think>r</think><answer>1</answer>")).toBe(false);
  });
});

describe("extractOfficial", () => {
  const r41 = `<think>t</think><answer>The answer: ${B}Stop${E}</answer>`;
  const r45 = `<think>t</think>The answer: ${B}Stop${E}`;

  it("p1 reads only the 4.1V shape", () => {
    expect(extractOfficial(r41, "p1")).toBe("Stop");
    expect(extractOfficial(r45, "p1")).toBeNull();
  });

  it("p2a reads only the 4.5V shape (answer tags are banned)", () => {
    expect(extractOfficial(r45, "p2a")).toBe("Stop");
    expect(extractOfficial(r41, "p2a")).toBeNull();
  });

  it("p2b reads both shapes", () => {
    expect(extractOfficial(r41, "p2b")).toBe("Stop");
    expect(extractOfficial(r45, "p2b")).toBe("Stop");
  });

  it("needs exactly one box and a think block", () => {
    expect(extractOfficial(`<think>t</think>${B}1${E} ${B}2${E}`, "p2a")).toBeNull();
    expect(extractOfficial("<think>t</think>plain 3", "p2b")).toBeNull();
    expect(extractOfficial(`${B}3${E}`, "p2b")).toBeNull();
    expect(extractOfficial("<think>t</think>   ", "p2b")).toBeNull();
  });

  it("rejects a think tag nested in the think part for every pattern", () => {
    const nested = `<think>a <think> b</think>${B}1${E}`;
    expect(extractOfficial(nested, "p2b")).toBeNull();
    expect(extractOfficial(nested, "p2a")).toBeNull();
  });
});
