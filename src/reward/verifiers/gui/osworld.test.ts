import { describe, expect, it } from "vitest";
import { parseOsworldAction, scoreOsworld } from "./osworld.ts";

const click = (box: string, name = "left_click") => `${name}(start_box='${box}')`;

describe("parseOsworldAction", () => {
  it("reads every field of the action space", () => {
    expect(parseOsworldAction("left_drag(start_box='[1, 2]', end_box='[3, 4]')")).toMatchObject({
      name: "left_drag",
      target: { kind: "point", x: 1, y: 2 },
      end: { kind: "point", x: 3, y: 4 },
    });
    expect(parseOsworldAction("scroll(start_box='[5, 6]', direction='up', step=2)")).toMatchObject({
      direction: "up",
      step: 2,
    });
    expect(parseOsworldAction("type(content='hi')")?.content).toBe("hi");
    expect(parseOsworldAction("key(keys='ctrl+c')")?.keys).toBe("ctrl+c");
    expect(parseOsworldAction("DONE()")?.name).toBe("DONE");
  });
  it("reads a 4-number start_box as a box", () => {
    expect(parseOsworldAction(click("[10, 20, 30, 40]"))?.target).toEqual({
      kind: "box",
      x1: 10,
      y1: 20,
      x2: 30,
      y2: 40,
    });
  });
  it("reads a bare point as left_click", () => {
    expect(parseOsworldAction("(5, 6)")).toEqual({
      name: "left_click",
      target: { kind: "point", x: 5, y: 6 },
    });
  });
  it("refuses a non-numeric step", () => {
    expect(parseOsworldAction("scroll(start_box='[5, 6]', direction='up', step=two)")).toBeNull();
  });
});

describe("scoreOsworld: clicks", () => {
  it("scores every click-family action by distance", () => {
    for (const name of ["left_click", "left_double_click", "right_click", "middle_click", "hover"]) {
      expect(scoreOsworld(click("[100, 200]", name), click("[100, 200]", name)).score).toBe(1);
      expect(scoreOsworld(click("[110, 190]", name), click("[100, 200]", name)).score).toBeGreaterThan(0.5);
    }
  });
  it("ignores element_info", () => {
    expect(
      scoreOsworld("left_click(start_box='[100, 200]', element_info='x')", click("[100, 200]")).score,
    ).toBe(1);
  });
  it("marks a near click correct and a far one wrong", () => {
    expect(scoreOsworld(click("[100, 220]"), click("[100, 200]")).correct).toBe(true);
    expect(scoreOsworld(click("[100, 240]"), click("[100, 200]")).correct).toBe(false);
  });
  it("gives 0 for another click type", () => {
    expect(scoreOsworld(click("[100, 200]", "right_click"), click("[100, 200]")).score).toBe(0);
  });
});

describe("scoreOsworld: point-in-box (a glmv rule, absent from the release)", () => {
  const gold = click("[100, 100, 200, 150]");
  it("a click inside the labelled box scores 1 and is correct", () => {
    expect(scoreOsworld(click("[150, 120]"), gold)).toMatchObject({ score: 1, correct: true });
    expect(scoreOsworld(click("[200, 150]"), gold).score).toBe(1); // corner, inclusive
  });
  it("a click outside scores the distance to the nearest edge and is not correct", () => {
    const r = scoreOsworld(click("[210, 120]"), gold);
    expect(r.score).toBeCloseTo(0.9, 12);
    expect(r.correct).toBe(false);
    expect(scoreOsworld(click("[300, 120]"), gold).score).toBe(0);
  });
  it("a predicted box against a labelled box is IoU", () => {
    expect(scoreOsworld(click("[100, 100, 200, 150]"), gold).score).toBe(1);
    expect(scoreOsworld(click("[150, 100, 250, 150]"), gold).score).toBeCloseTo(1 / 3, 12);
  });
  it("applies to drag endpoints and scroll points too", () => {
    const drag = "left_drag(start_box='[0, 0, 10, 10]', end_box='[500, 500, 600, 600]')";
    expect(scoreOsworld("left_drag(start_box='[5, 5]', end_box='[550, 550]')", drag).score).toBe(1);
    const sc = "scroll(start_box='[0, 0, 100, 100]', direction='down', step=3)";
    expect(scoreOsworld("scroll(start_box='[50, 50]', direction='down', step=3)", sc).score).toBe(1);
  });
  it("a bare point is a left_click (compact form)", () => {
    expect(scoreOsworld("[150, 120]", gold).score).toBe(1);
    expect(scoreOsworld("(150, 120)", click("[150, 120]")).score).toBe(1);
    expect(scoreOsworld("[150, 120]", click("[150, 120]", "right_click")).score).toBe(0);
  });
});

describe("scoreOsworld: coordinates must be integer thousandths 0–999", () => {
  it("1000, negative and fractional coordinates score 0", () => {
    expect(scoreOsworld(click("[1000, 200]"), click("[999, 200]")).score).toBe(0);
    expect(scoreOsworld(click("[-1, 200]"), click("[0, 200]")).score).toBe(0);
    expect(scoreOsworld(click("[1.5, 200]"), click("[1, 200]")).score).toBe(0);
    expect(scoreOsworld(click("[5, 5]"), click("[0, 0, 1000, 10]")).score).toBe(0);
  });
});

describe("scoreOsworld: drag, scroll, type, key, no-parameter actions", () => {
  it("drag is the geometric mean of both endpoint scores", () => {
    const gold = "left_drag(start_box='[100, 100]', end_box='[300, 300]')";
    expect(scoreOsworld("left_drag(start_box='[100, 100]', end_box='[300, 330]')", gold).score).toBeCloseTo(
      Math.sqrt(0.4),
      12,
    );
    expect(scoreOsworld("left_drag(start_box='[100, 100]')", gold).score).toBe(0);
  });
  it("scroll needs the same direction; a missing step counts as 5; no gold step means any step", () => {
    const gold = "scroll(start_box='[200, 200]', direction='down', step=5)";
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='up', step=5)", gold).score).toBe(0);
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='DOWN', step=5)", gold).score).toBe(1);
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='down')", gold).score).toBe(1);
    const noStep = "scroll(start_box='[200, 200]', direction='down')";
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='down', step=9)", noStep).score).toBe(1);
  });
  it("a gold step of 0 only matches 0 (the release divided by zero)", () => {
    const gold = "scroll(start_box='[200, 200]', direction='down', step=0)";
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='down', step=0)", gold).score).toBe(1);
    expect(scoreOsworld("scroll(start_box='[200, 200]', direction='down', step=1)", gold).score).toBe(0);
  });
  it("type reads escaped quotes (the release cut the text at them)", () => {
    expect(scoreOsworld("type(content='don\\'t stop')", 'type(content="don\'t stop")').score).toBe(1);
    expect(scoreOsworld("type(content='')", "type(content='x')").score).toBe(0);
  });
  it("keys compare case-insensitively and ignore spaces around +", () => {
    expect(scoreOsworld("key(keys='Ctrl + Shift + T')", "key(keys='ctrl+shift+t')")).toMatchObject({
      score: 1,
      correct: true,
    });
    expect(scoreOsworld("key(keys='ctrl+v')", "key(keys='ctrl+c')").score).toBe(0);
  });
  it("WAIT/DONE/FAIL match only by exact name", () => {
    for (const a of ["WAIT()", "DONE()", "FAIL()"]) expect(scoreOsworld(a, a).score).toBe(1);
    expect(scoreOsworld("done()", "DONE()").score).toBe(0);
    expect(scoreOsworld("DONE()", "FAIL()").score).toBe(0);
  });
  it("unknown actions score 0 even when the names match", () => {
    expect(scoreOsworld("launch(app='x')", "launch(app='x')").score).toBe(0);
  });
});

describe("scoreOsworld: hostile input returns 0 without throwing", () => {
  it.each([
    ["unclosed quote", "type(content='abc)"],
    ["unbalanced bracket", "left_click(start_box='[1, 2')"],
    ["nested brackets", "left_click(start_box=[[[[[[1, 2]]]]]])"],
    ["huge number", `left_click(start_box='[${"9".repeat(400)}, 1]')`],
    ["10 kB string", `type(content='${"a".repeat(10_000)}')`],
    ["empty", ""],
    ["garbage", ")))((('''"],
  ])("%s", (_label, pred) => {
    expect(scoreOsworld(pred, click("[1, 2]")).score).toBe(0);
    expect(scoreOsworld(click("[1, 2]"), pred).score).toBe(0);
  });
});
