import { describe, expect, it } from "vitest";
import {
  bigramJaccard,
  editSimilarity,
  isRepetitive,
  lcsLength,
  lcsRatio,
  levenshtein,
  typedTextSimilarity,
} from "./similarity.ts";

describe("lcs", () => {
  it("finds the longest common subsequence", () => {
    expect(lcsLength("abcde", "ace")).toBe(3);
    expect(lcsLength("", "abc")).toBe(0);
    expect(lcsRatio("Personal Finance", "Personal Finance Tracker")).toBeCloseTo(2 / 3, 12);
    expect(lcsRatio("bcd", "abcd")).toBe(0.75);
    expect(lcsRatio("", "")).toBe(1);
  });
  it("counts code points, not UTF-16 units", () => {
    expect(lcsRatio("😀a", "😀b")).toBe(0.5);
  });
});

describe("levenshtein", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(levenshtein("kitten", "sitting")).toBe(3);
    expect(levenshtein("", "abc")).toBe(3);
    expect(levenshtein("abc", "abc")).toBe(0);
    expect(levenshtein("😀", "😃")).toBe(1);
    expect(editSimilarity("", "")).toBe(1);
  });
});

describe("bigramJaccard", () => {
  it("compares lower-cased bigram sets", () => {
    expect(bigramJaccard("helloworld!", "hello world!")).toBe(0.75);
    expect(bigramJaccard("AB", "ab")).toBe(1);
    expect(bigramJaccard("a", "b")).toBe(1); // no bigrams on either side
  });
});

describe("isRepetitive", () => {
  it("flags one dominant character or n-gram in texts of 10+ characters", () => {
    expect(isRepetitive("aaaaaaaaab")).toBe(true);
    expect(isRepetitive("abababababab")).toBe(true);
    expect(isRepetitive("hello world")).toBe(false);
    expect(isRepetitive("aaaaa")).toBe(false); // too short to judge
  });
});

describe("typedTextSimilarity (OSWorld type)", () => {
  it("matches the release's values", () => {
    expect(typedTextSimilarity("Hello World!", "Hello World!")).toBe(1);
    expect(typedTextSimilarity("HeLloworld!", "Hello World!")).toBeCloseTo(0.85, 12);
    expect(typedTextSimilarity("Goodbye World!", "Hello World!")).toBeCloseTo(0.43333333333333335, 12);
  });
  it("ignores case and surrounding space, gives 0 for an empty side", () => {
    expect(typedTextSimilarity("  HELLO ", "hello")).toBe(1);
    expect(typedTextSimilarity("", "hello")).toBe(0);
    expect(typedTextSimilarity("   ", "hello")).toBe(0);
  });
  it("penalises very different lengths by the length ratio", () => {
    const short = typedTextSimilarity("hello", "hello world, how are you today");
    expect(short).toBeLessThan(0.1);
  });
  it("penalises repetitive padding ×0.3", () => {
    const padded = typedTextSimilarity("abababababab", "abababababac");
    expect(padded).toBeLessThan(0.31);
  });
  it("stays in [0, 1] on long inputs and is fast", () => {
    const a = "x".repeat(2000) + "y".repeat(2000);
    const t0 = performance.now();
    const s = typedTextSimilarity(a, "y".repeat(4000));
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThanOrEqual(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
