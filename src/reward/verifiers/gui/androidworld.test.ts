import { describe, expect, it } from "vitest";
import { parseLiteral, scoreAndroidWorld } from "./androidworld.ts";

const GOLD = '{"action_type": "click", "box_2d": [[503,580,718,702]]}';

describe("parseLiteral", () => {
  it("reads JSON", () => {
    expect(parseLiteral('{"a": [1, -2.5e1], "b": null, "c": "x\\ny"}')).toEqual({
      a: [1, -25],
      b: null,
      c: "x\ny",
    });
  });
  it("reads Python literals: quotes, True/False/None, tuples, trailing commas, zero padding", () => {
    expect(parseLiteral("{'a': (1, 0503), 'b': True, 'c': None, 'd': false,}")).toEqual({
      a: [1, 503],
      b: true,
      c: null,
      d: false,
    });
  });
  it("refuses anything that is not exactly one value", () => {
    for (const bad of [
      '{{"a": 1}}',
      '{"a": 1} x',
      "{a: 1}",
      "[1, 2",
      "'open",
      "",
      "import os",
      "{'a': 1 'b': 2}",
    ]) {
      expect(parseLiteral(bad)).toBeUndefined();
    }
  });
  it("refuses deep nesting and oversized text", () => {
    expect(parseLiteral(`${"[".repeat(100)}${"]".repeat(100)}`)).toBeUndefined();
    expect(parseLiteral(`"${"a".repeat(10_000)}"`)).toBeUndefined();
  });
  it("keeps __proto__ as a plain key", () => {
    const v = parseLiteral('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("scoreAndroidWorld: release rules", () => {
  it("ignores key order and needs identical key sets", () => {
    expect(scoreAndroidWorld('{"box_2d": [[503,580,718,702]], "action_type": "click"}', GOLD).score).toBe(1);
    expect(scoreAndroidWorld('{"action_type": "click"}', GOLD).score).toBe(0);
  });
  it("gives 0 for another action type", () => {
    expect(
      scoreAndroidWorld('{"action_type": "long_press", "box_2d": [[503,580,718,702]]}', GOLD).score,
    ).toBe(0);
  });
  it("scores a predicted box by IoU and a disjoint box 0", () => {
    expect(
      scoreAndroidWorld('{"action_type": "click", "box_2d": [[503,480,718,602]]}', GOLD).score,
    ).toBeGreaterThan(0);
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [[203,580,418,702]]}', GOLD).score).toBe(0);
  });
  it("zeroes the whole reward for an invalid predicted box", () => {
    for (const box of [
      "[[503,580,718]]",
      "[[718,580,503,702]]",
      "[[503.5,580,718,702]]",
      "[[-1,580,718,702]]",
    ]) {
      expect(scoreAndroidWorld(`{"action_type": "click", "box_2d": ${box}}`, GOLD).score).toBe(0);
    }
  });
  it("multiplies key scores: text by LCS ratio, enumerations exact", () => {
    const gold =
      "{'action_type': 'input_text', 'text': 'abcd', 'override': True, 'box_2d': [[38, 115, 961, 140]]}";
    expect(
      scoreAndroidWorld(
        "{'action_type': 'input_text', 'text': 'abc', 'override': true, 'box_2d': [[38, 115, 961, 140]]}",
        gold,
      ).score,
    ).toBe(0.75);
    expect(
      scoreAndroidWorld(
        "{'action_type': 'input_text', 'text': 'abcd', 'override': False, 'box_2d': [[38, 115, 961, 140]]}",
        gold,
      ).score,
    ).toBe(0);
    // The release's own example: a 1-pixel box difference.
    expect(
      scoreAndroidWorld(
        "{'action_type': 'input_text', 'text': 'abcd', 'override': True, 'box_2d': [[38, 115, 960, 141]]}",
        gold,
      ).score,
    ).toBeCloseTo((922 * 25) / (923 * 25 + 922 * 26 - 922 * 25), 12);
  });
  it("matches non-box actions exactly", () => {
    expect(
      scoreAndroidWorld('{"action_type": "navigate_back"}', '{"action_type": "navigate_back"}').score,
    ).toBe(1);
    const swipe = '{"action_type": "swipe", "direction": "up"}';
    expect(scoreAndroidWorld('{"action_type": "swipe", "direction": "down"}', swipe).score).toBe(0);
    expect(
      scoreAndroidWorld(
        '{"action_type":"open_app","app_name":"Chrome"}',
        '{"action_type":"open_app","app_name":"Chrome"}',
      ).correct,
    ).toBe(true);
  });
});

describe("scoreAndroidWorld: point-in-box (a glmv rule)", () => {
  it("a click point given as box_2d [[x, y]] scores 1 inside the labelled box", () => {
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [[600, 650]]}', GOLD)).toMatchObject({
      score: 1,
      correct: true,
    });
  });
  it("outside the box it scores the distance to the nearest edge and is not correct", () => {
    const r = scoreAndroidWorld('{"action_type": "click", "box_2d": [[728, 650]]}', GOLD);
    expect(r.score).toBeCloseTo(0.9, 12);
    expect(r.correct).toBe(false);
  });
  it("reads a bare point or box against a click label (compact form)", () => {
    expect(scoreAndroidWorld("(600, 650)", GOLD).score).toBe(1);
    expect(scoreAndroidWorld("[503, 580, 718, 702]", GOLD).score).toBe(1);
    expect(
      scoreAndroidWorld("(600, 650)", '{"action_type": "long_press", "box_2d": [[503,580,718,702]]}').score,
    ).toBe(0);
  });
  it("accepts a flat box_2d but refuses several predicted boxes", () => {
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [503,580,718,702]}', GOLD).score).toBe(1);
    const two = '{"action_type": "click", "box_2d": [[503,580,718,702],[0,0,999,999]]}';
    expect(scoreAndroidWorld(two, GOLD).score).toBe(0);
  });
  it("a point at 1000 is invalid", () => {
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [[1000, 650]]}', GOLD).score).toBe(0);
  });
  it("IoU ≥ 0.5 is correct, below is not", () => {
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [[503,600,718,702]]}', GOLD).correct).toBe(
      true,
    );
    expect(scoreAndroidWorld('{"action_type": "click", "box_2d": [[503,680,718,802]]}', GOLD).correct).toBe(
      false,
    );
  });
});

describe("scoreAndroidWorld: hostile input returns 0 without throwing", () => {
  it.each([
    ["double braces", '{{"box_2d": [[503,480,718,602]], "action_type": "click"}}'],
    ["unclosed quote", '{"action_type": "click, "box_2d": [[1,2,3,4]]}'],
    ["nested brackets", `{"action_type": "click", "box_2d": ${"[".repeat(50)}1${"]".repeat(50)}}`],
    ["huge number", `{"action_type": "click", "box_2d": [[${"9".repeat(400)},1,2,3]]}`],
    ["10 kB string", `{"action_type": "click", "text": "${"a".repeat(10_000)}"}`],
    ["not an object", "[1, 2, 3]"],
    ["python code", "__import__('os').system('true')"],
  ])("%s", (_label, pred) => {
    expect(scoreAndroidWorld(pred, GOLD).score).toBe(0);
    expect(scoreAndroidWorld(GOLD, pred).score).toBe(0);
  });
  it("an invalid label box scores 0 instead of raising", () => {
    expect(scoreAndroidWorld(GOLD, '{"action_type": "click", "box_2d": "oops"}').score).toBe(0);
  });
});
