import { describe, expect, it } from "vitest";
import { buildSuite } from "../../data/tasks/index.ts";
import { exampleStream } from "./remote-engine.ts";

describe("exampleStream", () => {
  it("cycles through every item once per epoch, reshuffled, deterministically by seed", () => {
    const items = buildSuite({ seed: 1, perFamily: 5, split: "train", families: ["counting"] });
    const next = exampleStream(items, 3, 7);
    const ids = [...next(), ...next(), ...next(), ...next()].map((i) => i.id);
    expect(new Set(ids.slice(0, 5)).size).toBe(5);
    expect(new Set(ids.slice(5, 10)).size).toBe(5);
    const again = exampleStream(items, 3, 7);
    expect(again().map((i) => i.id)).toEqual(ids.slice(0, 3));
  });
});
