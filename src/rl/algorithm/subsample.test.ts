import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../util/rng.ts";
import { balancedSubsample, type Group, invalidRate, shuffle } from "./subsample.ts";

const g = (id: string, rewards: number[]): Group<null> => ({ promptId: id, rewards, payload: null });

describe("balanced subsampling", () => {
  const groups = [
    g("allRight", [1, 1, 1, 1]),
    g("allWrong", [0, 0, 0, 0]),
    g("h1", [1, 1, 1, 0]),
    g("h2", [1, 1, 0, 0]),
    g("h3", [1, 1, 1, 0]),
    g("l1", [1, 0, 0, 0]),
    g("l2", [0, 0, 0, 1]),
    g("l3", [0, 0, 0.2, 0]),
  ];

  it("invalid rate counts groups without signal", () => {
    expect(invalidRate(groups)).toBeCloseTo(2 / 8, 12);
    expect(invalidRate([])).toBe(0);
  });

  it("keeps only groups with signal, alternating high and low mean", () => {
    const out = balancedSubsample(groups, 4, mulberry32(1));
    expect(out).toHaveLength(4);
    const ids = out.map((x) => x.promptId);
    expect(ids).not.toContain("allRight");
    expect(ids).not.toContain("allWrong");
    expect(ids.filter((id) => id.startsWith("h"))).toHaveLength(2);
    expect(ids.filter((id) => id.startsWith("l"))).toHaveLength(2);
  });

  it("tops up from the other side when one side runs out, never exceeding what has signal", () => {
    const lopsided = [g("h1", [1, 1, 0]), g("h2", [1, 0, 1]), g("h3", [1, 1, 0]), g("l1", [0, 0, 1])];
    const out = balancedSubsample(lopsided, 4, mulberry32(2));
    expect(out.map((x) => x.promptId).sort()).toEqual(["h1", "h2", "h3", "l1"]);
    expect(balancedSubsample(lopsided, 10, mulberry32(2))).toHaveLength(4);
  });

  it("is deterministic for a given generator and shuffles without loss", () => {
    const a = balancedSubsample(groups, 5, mulberry32(7)).map((x) => x.promptId);
    const b = balancedSubsample(groups, 5, mulberry32(7)).map((x) => x.promptId);
    expect(a).toEqual(b);
    expect(shuffle([1, 2, 3, 4, 5], mulberry32(3)).sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
