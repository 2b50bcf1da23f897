import { describe, expect, it } from "vitest";
import { continuousResult, discreteResult, judgedResult, parseCall, unwrapBox } from "./action.ts";

describe("parseCall", () => {
  it("reads named quoted, bracketed and bare arguments", () => {
    const call = parseCall("scroll(start_box='[1, 2]', direction=\"down\", step=5)");
    expect(call?.name).toBe("scroll");
    expect(call?.named.get("start_box")).toEqual({ text: "[1, 2]", quoted: true });
    expect(call?.named.get("direction")?.text).toBe("down");
    expect(call?.named.get("step")).toEqual({ text: "5", quoted: false });
  });
  it("reads tuples and nested boxes", () => {
    const call = parseCall("CLICK(point=(214, 100), box=[[198,92,229,107]], element_info='a, b)')");
    expect(call?.named.get("point")?.text).toBe("(214, 100)");
    expect(call?.named.get("box")?.text).toBe("[[198,92,229,107]]");
    expect(call?.named.get("element_info")?.text).toBe("a, b)");
  });
  it("reads no-argument calls and trailing commas", () => {
    expect(parseCall("WAIT()")?.named.size).toBe(0);
    expect(parseCall("f(a=1,)")?.named.get("a")?.text).toBe("1");
  });
  it("honours backslash escapes of quotes and keeps other backslashes", () => {
    expect(parseCall("type(content='don\\'t')")?.named.get("content")?.text).toBe("don't");
    expect(parseCall("type(content='C:\\dir')")?.named.get("content")?.text).toBe("C:\\dir");
  });
  it("refuses malformed text", () => {
    for (const bad of [
      "type(content='abc)",
      "left_click(start_box='[1, 2]'",
      "left_click(start_box=[1, 2)",
      "left_click(start_box='[1,2]') trailing",
      "f(a=1, a=2)",
      "f(a=1 b=2)",
      "no call here",
      "",
      "(x=1)",
    ]) {
      expect(parseCall(bad)).toBeNull();
    }
  });
  it("refuses oversized input without scanning it", () => {
    expect(parseCall(`f(a='${"x".repeat(10_000)}')`)).toBeNull();
  });
});

describe("unwrapBox", () => {
  it("keeps the first box's content", () => {
    expect(
      unwrapBox("Action: <|begin_of_box|> WAIT() <|end_of_box|> then <|begin_of_box|>x<|end_of_box|>"),
    ).toBe("WAIT()");
    expect(unwrapBox("  WAIT()  ")).toBe("WAIT()");
    expect(unwrapBox("<|begin_of_box|>WAIT()")).toBe("<|begin_of_box|>WAIT()");
  });
});

describe("result constructors", () => {
  it("continuous scores are correct at ≥ 0.5, discrete ones only at 1", () => {
    expect(continuousResult(0.5, "").correct).toBe(true);
    expect(continuousResult(0.49, "").correct).toBe(false);
    expect(discreteResult(0.99, "").correct).toBe(false);
    expect(discreteResult(1, "").correct).toBe(true);
  });
  it("clamp and sanitise scores", () => {
    expect(judgedResult(Number.NaN, true, "").score).toBe(0);
    expect(continuousResult(1.5, "").score).toBe(1);
    expect(continuousResult(-1, "").score).toBe(0);
  });
});
