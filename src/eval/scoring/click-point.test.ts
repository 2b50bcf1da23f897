import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { goldFraction } from "../tasks/screenspot.ts";
import { clickHits, clickPoint } from "./click-point.ts";

type Case = {
  id: string;
  response: string;
  bbox: [number, number, number, number];
  img_size: [number, number];
  format: "xywh" | "xyxy";
  expected: { point: [number, number] | null; correctness: "correct" | "wrong" | "wrong_format" };
};
const REFERENCE = JSON.parse(
  readFileSync(
    join(import.meta.dirname, "../../../test/benchmarks/screenspot/reference-verdicts.json"),
    "utf8",
  ),
) as { cases: Case[] };

describe("SeeClick's click rule against its Python (reference verdicts)", () => {
  it.each(REFERENCE.cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const point = clickPoint(c.response);
    const { expected } = c;
    if (expected.point === null) {
      expect(point).toBeNull();
      expect(expected.correctness).toBe("wrong_format");
      return;
    }
    expect(point).toEqual({ x: expected.point[0], y: expected.point[1] });
    const gold = goldFraction(c.bbox, c.format, c.img_size);
    expect(clickHits(point!, gold) ? "correct" : "wrong").toBe(expected.correctness);
  });
});

describe("clickPoint", () => {
  it("a predicted box counts by its centre", () => {
    expect(clickPoint("[[100,200,300,400]]")).toEqual({ x: 0.2, y: 0.3 });
  });
  it("GLM's thousandths become fractions of the image", () => {
    expect(clickPoint("[512, 640]")).toEqual({ x: 0.512, y: 0.64 });
  });
  it("any count of numbers but 2 or 4 is wrong_format", () => {
    expect(clickPoint("1 2 3")).toBeNull();
    expect(clickPoint("[[1,2,3,4],[5,6,7,8]]")).toBeNull();
  });
  it("the word 'box' sends the answer down SeeClick's Qwen <box> path", () => {
    expect(clickPoint("<box>(100,200),(300,400)</box>")).toEqual({ x: 0.2, y: 0.3 });
    expect(clickPoint("the box [100, 200]")).toBeNull();
  });
});

describe("clickHits (inclusive edges)", () => {
  const gold: [number, number, number, number] = [0.1, 0.2, 0.3, 0.4];
  it.each([
    [0.1, 0.2, true],
    [0.3, 0.4, true],
    [0.2, 0.3, true],
    [0.30000000000000004, 0.3, false],
    [0.2, 0.19999999999999998, false],
  ])("(%s, %s) → %s", (x, y, hit) => {
    expect(clickHits({ x, y }, gold)).toBe(hit);
  });
});
