import { describe, expect, it } from "vitest";
import { detectLanguageMix, detectRepetition, stylePenalties } from "./style.ts";

const ZH_SENTENCE = "我们先观察图中的三角形然后根据勾股定理计算斜边的长度最后得到答案";
/** `n` CJK characters, no punctuation. */
const zh = (n: number): string => ZH_SENTENCE.repeat(Math.ceil(n / ZH_SENTENCE.length)).slice(0, n);
const WORDS = "first we look at the triangle then apply the theorem to both sides and check units".split(" ");
/** Letters-only tag of an index ("a", "b", …, "ba"), so generated words never form a loop. */
const tag = (i: number): string =>
  [...i.toString(26)].map((d) => String.fromCharCode(97 + parseInt(d, 26))).join("");
/** `n` English words without repetition loops. */
const en = (n: number): string =>
  Array.from({ length: n }, (_, i) => `${WORDS[i % WORDS.length]}${tag(i)}`).join(" ");

describe("detectRepetition", () => {
  it("flags a phrase looping enough times for one 50-char window to recur 10 times", () => {
    expect(detectRepetition("The answer is 5. ".repeat(40))).toBe(true);
  });

  it("does not flag a few repetitions (below the threshold)", () => {
    // 17-char period: each 50-char window recurs about (170 − 49) / 17 ≈ 7 times.
    expect(detectRepetition("The answer is 5. ".repeat(10))).toBe(false);
  });

  it("does not flag ordinary varied text", () => {
    const text = Array.from({ length: 300 }, (_, i) => `step ${i}: add ${i * 7} to ${i * 3}`).join("\n");
    expect(detectRepetition(text)).toBe(false);
  });

  it("ignores formatting fillers: rules, table separators, long space runs", () => {
    expect(detectRepetition(`intro\n${"=".repeat(2000)}\nend`)).toBe(false);
    expect(detectRepetition(`| a | b |\n|${"-".repeat(3000)}|${"-".repeat(3000)}|`)).toBe(false);
    expect(detectRepetition(`x${" ".repeat(5000)}y`)).toBe(false);
  });

  it("still flags a filler character in runs of two (below the collapse length)", () => {
    expect(detectRepetition("ab--".repeat(200))).toBe(true);
  });

  it("counts windows in code points (astral characters)", () => {
    expect(detectRepetition("😀".repeat(59))).toBe(true);
    expect(detectRepetition("😀".repeat(58))).toBe(false);
  });

  it("finishes on a megabyte of text", () => {
    const big = Array.from({ length: 100_000 }, (_, i) => `${i.toString(36)} `).join("");
    expect(detectRepetition(big)).toBe(false);
  });
});

describe("detectLanguageMix", () => {
  it("flags a long Chinese paragraph plus a long English paragraph", () => {
    expect(detectLanguageMix(`${zh(60)}\n\n${en(210)}`)).toBe(true);
  });

  it("needs a blank line between paragraphs (one newline keeps one paragraph)", () => {
    expect(detectLanguageMix(`${zh(60)}\n${en(210)}`)).toBe(false);
  });

  it("does not flag one language, or short paragraphs of the other", () => {
    expect(detectLanguageMix(`${zh(400)}\n\n${zh(400)}`)).toBe(false);
    expect(detectLanguageMix(`${zh(49)}\n\n${en(500)}`)).toBe(false);
    expect(detectLanguageMix(`${zh(200)}\n\n${en(199)}`)).toBe(false);
  });

  it("requires > 80% CJK share and > 70% English-word share", () => {
    const dilutedZh = `${zh(60)}${"1".repeat(20)}`; // 60 / 80 = 75%
    expect(detectLanguageMix(`${dilutedZh}\n\n${en(210)}`)).toBe(false);
    const dilutedEn = `${en(210)} ${Array.from({ length: 100 }, (_, i) => String(i)).join(" ")}`; // 210 / 310
    expect(detectLanguageMix(`${zh(60)}\n\n${dilutedEn}`)).toBe(false);
  });

  it("does not count a Latin word glued to CJK text as an English word (Python's Unicode \\b)", () => {
    const glued = Array.from({ length: 250 }, () => "ab中").join(" ");
    expect(detectLanguageMix(`${zh(60)}\n\n${glued}`)).toBe(false);
  });
});

describe("stylePenalties", () => {
  it("returns none, one, or both penalties in a fixed order", () => {
    expect(stylePenalties("<think>short</think>\\boxed{1}")).toEqual([]);
    expect(stylePenalties("loop loop loop! ".repeat(50))).toEqual(["repetition"]);
    expect(stylePenalties(`${zh(60)}\n\n${en(210)}`)).toEqual(["language_mix"]);
    expect(stylePenalties(`${zh(60)}\n\n${en(210)}\n\n${"again and again ".repeat(60)}`)).toEqual([
      "repetition",
      "language_mix",
    ]);
  });
});
