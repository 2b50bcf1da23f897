import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { detectGuiDialect, verifyGui } from "./gui.ts";

const score = (pred: string, gold: string) => verifyGui(pred, gold, {});

describe("detectGuiDialect", () => {
  it.each([
    ["[1, 2]", "compact"],
    ["[1, 2, 3, 4]", "compact"],
    ["(1, 2)", "compact"],
    ['{"action_type": "navigate_home"}', "androidworld"],
    ["{'action_type': 'wait'}", "androidworld"],
    ["CLICK(point=(1, 2))", "webvoyager"],
    ["SCROLL_UP(point=(1, 2))", "webvoyager"],
    ["Click [3]", "webvoyager"],
    ["Wait", "webvoyager"],
    ["ANSWER; <content>x</content>", "webvoyager"],
    ["left_click(start_box='[1, 2]')", "osworld"],
    ["WAIT()", "osworld"],
    ["key(keys='enter')", "osworld"],
    ["Action: <|begin_of_box|>DONE()<|end_of_box|>", "osworld"],
  ])("%s → %s", (gold, dialect) => {
    expect(detectGuiDialect(gold)).toBe(dialect);
  });
  it("returns null for text that is no action", () => {
    expect(detectGuiDialect("the answer is 42")).toBeNull();
    expect(detectGuiDialect("")).toBeNull();
  });
});

describe("verifyGui dispatches on the label's dialect", () => {
  it("OSWorld", () => {
    expect(
      score("left_click(start_box='[110, 190]')", "left_click(start_box='[100, 200]')").score,
    ).toBeCloseTo(0.8585786437626904, 10);
  });
  it("AndroidWorld", () => {
    const gold = '{"action_type": "click", "box_2d": [[503,580,718,702]]}';
    expect(score("{'action_type': 'click', 'box_2d': [[503,580,718,702]]}", gold)).toMatchObject({
      score: 1,
      correct: true,
    });
  });
  it("WebVoyager", () => {
    expect(score("KEY_PRESS(key='Return')", "KEY_PRESS(key='Enter')")).toMatchObject({
      score: 0.05,
      correct: false,
    });
  });
  it("a prediction in another dialect than the label scores 0", () => {
    expect(score("CLICK(point=(100, 200))", "right_click(start_box='[100, 200]')").score).toBe(0);
    expect(score("left_click(start_box='[1, 2]')", '{"action_type": "navigate_home"}').score).toBe(0);
  });
  it("unwraps box tokens left on either side", () => {
    expect(
      score("<|begin_of_box|>WAIT()<|end_of_box|>", "Action: <|begin_of_box|>WAIT()<|end_of_box|>").score,
    ).toBe(1);
  });
  it("a label in no known dialect scores 0 with a reason", () => {
    const r = score("42", "the answer is 42");
    expect(r.score).toBe(0);
    expect(r.reason).toMatch(/dialect/);
  });
});

describe("verifyGui: compact labels (glmv's synthetic GUI task)", () => {
  const gold = "[503, 580, 718, 702]";
  it("a bare point inside a bare box is correct", () => {
    expect(score("[600, 650]", gold)).toMatchObject({ score: 1, correct: true });
    expect(score("(503, 702)", gold).score).toBe(1);
  });
  it("a point just outside gets a shaped score but is not correct", () => {
    const r = score("[728, 650]", gold);
    expect(r.score).toBeCloseTo(0.9, 12);
    expect(r.correct).toBe(false);
    expect(score("[100, 100]", gold).score).toBe(0);
  });
  it("a click in any dialect counts as its point", () => {
    expect(score("left_click(start_box='[600, 650]')", gold).score).toBe(1);
    expect(score("CLICK(point=(600, 650))", gold).score).toBe(1);
    expect(score('{"action_type": "click", "box_2d": [[600, 650]]}', gold).score).toBe(1);
    expect(score("right_click(start_box='[600, 650]')", gold).score).toBe(0);
  });
  it("a predicted box is scored by IoU; a point label by distance", () => {
    expect(score("[503, 580, 718, 702]", gold).score).toBe(1);
    expect(score("[0, 0, 999, 999]", gold).correct).toBe(false);
    expect(score("[110, 190]", "[100, 200]").score).toBeCloseTo(0.8585786437626904, 10);
  });
  it("coordinates of 1000 or below 0 are invalid", () => {
    expect(score("[1000, 650]", gold).score).toBe(0);
    expect(score("[600, 650]", "[503, 580, 1000, 702]").score).toBe(0);
    expect(score("[-5, 650]", gold).score).toBe(0);
  });
});

describe("verifyGui never throws and stays in [0, 1]", () => {
  const labels = [
    "left_click(start_box='[100, 200]')",
    "type(content='hello')",
    '{"action_type": "input_text", "text": "abc", "box_2d": [[1, 2, 3, 4]]}',
    "CLICK(point=(10, 20), box=[[0,0,50,50]])",
    "ANSWER(content='x')",
    "[1, 2, 3, 4]",
  ];
  it("on hostile predictions", () => {
    const hostile = [
      "type(content='abc)",
      "[[[[[[[[[[",
      `left_click(start_box='[${"9".repeat(1000)}, 1]')`,
      "x".repeat(10_000),
      `<|begin_of_box|>${"(".repeat(5000)}<|end_of_box|>`,
      `{'a': ${"[".repeat(3000)}`,
      "\u0000\uffff\ud800",
    ];
    for (const gold of labels) {
      for (const pred of hostile) {
        const r = score(pred, gold);
        expect(r.score).toBe(0);
        expect(r.correct).toBe(false);
      }
    }
  });
  it("on non-string input", () => {
    expect(verifyGui(undefined as unknown as string, "[1, 2]", {}).score).toBe(0);
  });
  it("on arbitrary strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(...labels), (pred, gold) => {
        const r = score(pred, gold);
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(1);
        expect(typeof r.reason).toBe("string");
      }),
      { numRuns: 300 },
    );
  });
  it("is fast on the longest accepted actions (2 kB)", () => {
    const t0 = performance.now();
    for (let k = 0; k < 5; k++)
      score(`type(content='${"ab".repeat(1000)}')`, `type(content='${"ba".repeat(1000)}')`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
