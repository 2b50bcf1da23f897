import { describe, expect, it } from "vitest";
import { choiceArg, numberArg, numberArgOrMessage, parseCliArgs } from "./args.ts";

describe("parseCliArgs", () => {
  const options = { port: { type: "string" }, verbose: { type: "boolean" } } as const;
  it("parses known options and adds -h/--help", () => {
    expect(parseCliArgs(["--port", "80", "--verbose"], options)).toEqual({ port: "80", verbose: true });
    expect(parseCliArgs(["-h"], options)).toEqual({ help: true });
  });
  it("returns the parse error for unknown flags and positionals", () => {
    expect(parseCliArgs(["--prot", "80"], options)).toMatch(/--prot/);
    expect(parseCliArgs(["extra"], options)).toMatch(/extra/);
  });
});

describe("numberArg", () => {
  it("reads absent, integer and real values", () => {
    expect(numberArg({}, "n")).toBeUndefined();
    expect(numberArg({ n: "4" }, "n", { integer: true, min: 1 })).toBe(4);
    expect(numberArg({ lr: "5e-4" }, "lr", { min: 0 })).toBe(5e-4);
  });
  it("refuses non-numbers, non-integers and values out of range, naming the flag", () => {
    expect(() => numberArg({ n: "many" }, "n")).toThrow("--n must be a number, got 'many'");
    expect(() => numberArg({ n: "" }, "n")).toThrow(/--n must be a number/);
    expect(() => numberArg({ n: "1.5" }, "n", { integer: true })).toThrow(/--n must be an integer/);
    expect(() => numberArg({ port: "70000" }, "port", { integer: true, min: 0, max: 65535 })).toThrow(
      "--port must be an integer in [0, 65535], got '70000'",
    );
    expect(() => numberArg({ n: "0" }, "n", { integer: true, min: 1 })).toThrow(
      expect.objectContaining({ code: "bad_argument" }),
    );
  });
  it("numberArgOrMessage turns the error into the message", () => {
    expect(numberArgOrMessage({ w: "2" }, "w", { integer: true })).toEqual({ value: 2 });
    expect(numberArgOrMessage({ w: "x" }, "w", { integer: true })).toBe("--w must be an integer, got 'x'");
  });
});

describe("choiceArg", () => {
  it("reads an allowed value or nothing, and refuses others naming the flag and the choices", () => {
    expect(choiceArg({}, "sampler", ["rlcs", "uniform"])).toBeUndefined();
    expect(choiceArg({ sampler: "uniform" }, "sampler", ["rlcs", "uniform"])).toBe("uniform");
    expect(() => choiceArg({ sampler: "greedy" }, "sampler", ["rlcs", "uniform"])).toThrow(
      "--sampler must be one of rlcs, uniform, got 'greedy'",
    );
  });
});
