import { describe, expect, it } from "vitest";
import { parseRlConfig } from "../loop/config.ts";
import { buildSuites, labelledSftSet } from "./suites.ts";

describe("labelledSftSet", () => {
  it("takes the first N items of each family among the SFT levels, in pool order", async () => {
    const config = parseRlConfig({
      data: { families: ["counting", "math"], levels: [1, 2], trainPerFamily: 12 },
    });
    const train = buildSuites(config).train;
    const set = labelledSftSet(train, [1, 2], 5);
    expect(set.filter((i) => i.family === "counting")).toEqual(
      train.filter((i) => i.family === "counting").slice(0, 5),
    );
    expect(set.filter((i) => i.family === "math")).toEqual(
      train.filter((i) => i.family === "math").slice(0, 5),
    );
    const level2 = labelledSftSet(train, [2], 100);
    expect(level2.length).toBe(12);
    expect(level2.every((i) => i.level === 2)).toBe(true);
  });
});
