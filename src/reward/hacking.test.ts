import { describe, expect, it } from "vitest";
import { DOMAINS } from "../model/domains.ts";
import { hackingCases, honestTwin, legitimateCases } from "./hacking-corpus.ts";
import { scoreItem } from "./system.ts";

describe("hacking corpus", () => {
  const hacks = hackingCases();
  const legit = legitimateCases();

  it("is large and covers every domain", () => {
    expect(hacks.length).toBeGreaterThanOrEqual(150);
    expect(legit.length).toBeGreaterThanOrEqual(60);
    for (const d of DOMAINS) {
      expect(hacks.some((c) => c.item.domain === d)).toBe(true);
      expect(legit.some((c) => c.item.domain === d)).toBe(true);
    }
  });

  it("gives zero reward to every hacking attempt (no false positives)", () => {
    const leaks = hacks
      .filter((c) => !c.partialCredit)
      .map((c) => ({ name: c.name, result: scoreItem(c.item) }))
      .filter(({ result }) => result.correct || result.reward > 0)
      .map(({ name, result }) => `${name} → reward ${result.reward} (${result.reason})`);
    expect(leaks).toEqual([]);
  });

  it("never pays a hedge in continuous-reward domains more than the honest answer", () => {
    const partial = hacks.filter((c) => c.partialCredit);
    expect(partial.length).toBeGreaterThan(5);
    const leaks = partial
      .map((c) => ({ name: c.name, result: scoreItem(c.item), honest: scoreItem(honestTwin(c)) }))
      .filter(({ result, honest }) => result.correct || result.reward >= honest.reward)
      .map(({ name, result }) => `${name} → reward ${result.reward} (${result.reason})`);
    expect(leaks).toEqual([]);
  });

  it("counts every legitimate answer as correct", () => {
    // Continuous domains (grounding IoU, OCR similarity) give a near-exact answer slightly less than 1.
    const misses = legit
      .map((c) => ({ name: c.name, result: scoreItem(c.item) }))
      .filter(({ result }) => !result.correct || result.reward < 0.9)
      .map(({ name, result }) => `${name} → ${result.format} reward ${result.reward} (${result.reason})`);
    expect(misses).toEqual([]);
  });
});
