import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertJsonDepth, jsonDepthViolation } from "./json-depth.ts";

/** Nesting depth of a parsed JSON value (a scalar is depth 0). */
function depthOf(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depthOf(c)), 0);
}

describe("jsonDepthViolation", () => {
  it("finds the bracket that opens the first level past the limit", () => {
    expect(jsonDepthViolation('{"a":[[1]]}', 3)).toBe(-1);
    expect(jsonDepthViolation('{"a":[[1]]}', 2)).toBe(6);
    expect(jsonDepthViolation("[[],[],[[]]]", 2)).toBe(8);
    expect(jsonDepthViolation("1", 0)).toBe(-1);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepthViolation(`{"a":"${"[".repeat(100)}"}`, 1)).toBe(-1);
    expect(jsonDepthViolation(String.raw`["\"[[[[", "\\", [1]]`, 1)).toBe(17);
    expect(jsonDepthViolation(String.raw`["\\\"[[", []]`, 1)).toBe(11);
  });

  it("agrees with JSON.parse on generated JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 7 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonDepthViolation(text, max) === -1).toBe(depthOf(value) <= max);
      }),
      { numRuns: 500 },
    );
  });

  it("stops at the limit instead of reading a 16 MB nest", () => {
    const deep = "[".repeat(8 << 20);
    expect(jsonDepthViolation(deep, 64)).toBe(64);
  });
});

describe("assertJsonDepth", () => {
  it("throws bad_input naming the field and the limit", () => {
    expect(() => assertJsonDepth("[[[]]]", 2, "labels.3")).toThrow(
      /JSON nests deeper than 2 levels .*\(at labels\.3\)/,
    );
    expect(() => assertJsonDepth("[[]]", 2, "body")).not.toThrow();
  });
});
