import { describe, expect, it } from "vitest";
import { parseWebAction, scoreWebVoyager } from "./webvoyager.ts";

const BOX = "box=[[198,92,229,107]]";

describe("parseWebAction", () => {
  it("reads the new call forms with parameters in any order", () => {
    expect(parseWebAction(`CLICK(element_info='Go', ${BOX}, point=(200, 100))`)).toEqual({
      kind: "click",
      point: { kind: "point", x: 200, y: 100 },
      box: { kind: "box", x1: 198, y1: 92, x2: 229, y2: 107 },
      elementInfo: "Go",
    });
    expect(parseWebAction("SCROLL_UP(point=(1, 2), distance=0.5)")).toMatchObject({
      direction: "up",
      distance: 0.5,
    });
    expect(parseWebAction("TYPE(point=(1, 2))")).toMatchObject({ kind: "type", text: "" });
  });
  it("reads the old set-of-marks forms", () => {
    expect(parseWebAction("Click [12]")).toEqual({ kind: "click_mark", index: 12 });
    expect(parseWebAction("Type [3]; [hello world]")).toEqual({
      kind: "type_mark",
      index: 3,
      text: "hello world",
    });
    expect(parseWebAction("Key; [Return]")).toEqual({ kind: "key", key: "Return" });
    expect(parseWebAction("Scroll [WINDOW]; [down]")).toEqual({
      kind: "scroll_mark",
      mark: "WINDOW",
      direction: "down",
    });
    expect(parseWebAction("GoBack")).toEqual({ kind: "goback" });
    expect(parseWebAction("ANSWER; <content>42</content>")).toEqual({ kind: "answer", content: "42" });
  });
  it("returns null for unknown text", () => {
    expect(parseWebAction("DANCE(point=(1, 2))")).toBeNull();
    expect(parseWebAction("CLICK(element_info='x')")).toBeNull();
  });
});

describe("scoreWebVoyager: clicks", () => {
  it("an exact point scores 1; the same element elsewhere 0.05 (not correct); another element 0", () => {
    const gold = "CLICK(point=(230, 100), element_info='Dinners')";
    expect(scoreWebVoyager("CLICK(point=(230, 100))", gold)).toMatchObject({ score: 1, correct: true });
    expect(scoreWebVoyager("CLICK(point=(214, 100), element_info='Dinners')", gold)).toMatchObject({
      score: 0.05,
      correct: false,
    });
    expect(scoreWebVoyager("CLICK(point=(214, 100), element_info='Lunch')", gold).score).toBe(0);
  });
  it("the 0.05 credit needs an element_info on both sides (the release gave it to two clicks lacking one)", () => {
    expect(scoreWebVoyager("CLICK(point=(214, 100))", "CLICK(point=(230, 100))").score).toBe(0);
  });
  it("with a labelled box, a click inside it scores 1 (point-in-box, a glmv rule)", () => {
    const gold = `CLICK(point=(230, 100), ${BOX}, element_info='Dinners')`;
    expect(scoreWebVoyager("CLICK(point=(214, 100))", gold)).toMatchObject({ score: 1, correct: true });
  });
  it("outside the labelled box: the distance score to the nearest edge, at least the same-element 0.05", () => {
    const gold = `CLICK(point=(214, 100), ${BOX}, element_info='Dinners')`;
    const near = scoreWebVoyager("CLICK(point=(239, 100))", gold);
    expect(near.score).toBeCloseTo(0.9, 12);
    expect(near.correct).toBe(false);
    expect(scoreWebVoyager("CLICK(point=(400, 400), element_info='Dinners')", gold).score).toBe(0.05);
    expect(scoreWebVoyager("CLICK(point=(400, 400))", gold).score).toBe(0);
  });
  it("a bare point is a click (compact form)", () => {
    expect(scoreWebVoyager("(214, 100)", `CLICK(point=(230, 100), ${BOX})`).score).toBe(1);
    expect(scoreWebVoyager("[230, 100]", "CLICK(point=(230, 100))").score).toBe(1);
  });
  it("coordinates of 1000 are invalid", () => {
    expect(scoreWebVoyager("CLICK(point=(1000, 100))", "CLICK(point=(1000, 100))").score).toBe(0);
  });
  it("old-format clicks compare mark indices; formats do not mix", () => {
    expect(scoreWebVoyager("Click [5]", "Click [5]").score).toBe(1);
    expect(scoreWebVoyager("Click [6]", "Click [5]").score).toBe(0);
    expect(scoreWebVoyager("CLICK(point=(1, 2))", "Click [5]").score).toBe(0);
  });
});

describe("scoreWebVoyager: type, key, scroll, answer, no-parameter actions", () => {
  it("type: text score at the same point, × 0.95 elsewhere, 0 for wrong text anywhere", () => {
    const gold = "TYPE(point=(200, 100), text='abcd')";
    expect(scoreWebVoyager("TYPE(point=(200, 100), text='abcd')", gold).score).toBe(1);
    expect(scoreWebVoyager("TYPE(point=(214, 100), text='abcd')", gold).score).toBe(0.95);
    expect(scoreWebVoyager("TYPE(point=(214, 100), text='xyz')", gold).score).toBe(0);
    expect(scoreWebVoyager("TYPE(point=(200, 100))", gold).score).toBe(0);
  });
  it("old-format type compares the mark, then the text", () => {
    expect(scoreWebVoyager("Type [3]; [abc]", "Type [3]; [abcd]").score).toBe(0.75);
    expect(scoreWebVoyager("Type [4]; [abcd]", "Type [3]; [abcd]").score).toBe(0);
  });
  it("keys compare case-insensitively, also across formats", () => {
    expect(scoreWebVoyager("KEY_PRESS(key='ENTER')", "KEY_PRESS(key='Enter')").score).toBe(1);
    expect(scoreWebVoyager("Key; [Return]", "KEY_PRESS(key='return')").score).toBe(1);
    expect(scoreWebVoyager("KEY_PRESS(key='Tab')", "KEY_PRESS(key='Enter')").score).toBe(0);
  });
  it("scroll needs the same point and direction, then compares distances", () => {
    const gold = "SCROLL_DOWN(point=(214, 100), distance=0.75)";
    expect(scoreWebVoyager("SCROLL_UP(point=(214, 100), distance=0.75)", gold).score).toBe(0);
    expect(scoreWebVoyager("SCROLL_DOWN(point=(215, 100), distance=0.75)", gold).score).toBe(0);
    expect(scoreWebVoyager("SCROLL_DOWN(point=(214, 100))", gold).score).toBe(0);
    expect(scoreWebVoyager("SCROLL_DOWN(point=(214, 100), distance=abc)", gold).score).toBe(0);
    // Both omit the distance: the same scroll (the release scored 0).
    expect(scoreWebVoyager("SCROLL_DOWN(point=(214, 100))", "SCROLL_DOWN(point=(214, 100))").score).toBe(1);
    expect(scoreWebVoyager("Scroll [3]; [down]", "Scroll [3]; [down]").score).toBe(1);
    expect(scoreWebVoyager("Scroll [3]; [up]", "Scroll [3]; [down]").score).toBe(0);
  });
  it("answers compare by LCS ratio, across formats", () => {
    expect(scoreWebVoyager("ANSWER; <content>Dinners</content>", "ANSWER(content='Dinners')").score).toBe(1);
    expect(scoreWebVoyager("ANSWER(content='')", "ANSWER(content='x')").score).toBe(0);
  });
  it("Wait, GoBack, Google and Bing match themselves only", () => {
    for (const a of ["Wait", "GoBack", "Google", "Bing"]) expect(scoreWebVoyager(a, a).score).toBe(1);
    expect(scoreWebVoyager("Wait", "GoBack").score).toBe(0);
  });
});

describe("scoreWebVoyager: hostile input returns 0 without throwing", () => {
  it.each([
    ["unclosed quote", "CLICK(point=(1, 2), element_info='x)"],
    ["nested brackets", `CLICK(point=${"(".repeat(60)}1, 2${")".repeat(60)})`],
    ["huge number", `CLICK(point=(${"9".repeat(400)}, 2))`],
    ["10 kB string", `ANSWER(content='${"a".repeat(10_000)}')`],
    ["10 kB old answer", `ANSWER; <content>${"a".repeat(10_000)}</content>`],
    ["empty", ""],
  ])("%s", (_label, pred) => {
    expect(scoreWebVoyager(pred, "CLICK(point=(1, 2))").score).toBe(0);
    expect(scoreWebVoyager(pred, "ANSWER(content='aaa')").score).toBe(0);
  });
});
