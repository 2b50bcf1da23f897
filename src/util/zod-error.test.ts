import { describe, expect, it } from "vitest";
import { z } from "zod";
import { GlmvError } from "./errors.ts";
import { parseOrThrow, zodErrorLine } from "./zod-error.ts";

const Schema = z.strictObject({
  seed: z.number().int().default(1),
  rl: z
    .strictObject({
      steps: z.number().int().min(0).default(30),
      topP: z.number().gt(0).max(1).default(1),
      sampler: z.enum(["rlcs", "uniform"]).default("rlcs"),
      levels: z.array(z.number().int().positive()).min(1).default([1]),
    })
    .prefault({}),
});

const line = (input: unknown, ctx = {}) => {
  const r = Schema.safeParse(input);
  if (r.success) throw new Error("expected a failure");
  return zodErrorLine(Schema, r.error, input, ctx);
};

describe("zodErrorLine", () => {
  it("names an unknown key with the nearest valid key at its level", () => {
    expect(line({ rl: { stepz: 3 } }, { source: "run.yaml" })).toEqual({
      message: "unknown key 'rl.stepz' in run.yaml (did you mean 'rl.steps'?)",
      path: ["rl", "stepz"],
      where: "run.yaml",
    });
    expect(line({ sede: 3 }).message).toBe("unknown key 'sede' (did you mean 'seed'?)");
    // the line of the key, where the caller knows it
    expect(line({ rl: { stepz: 3 } }, { source: "run.yaml", lineOf: () => 2 }).where).toBe("run.yaml:2");
  });

  it("says what a value must be and what it got, by path or by the caller's name for it", () => {
    expect(line({ rl: { steps: 1.5 } }).message).toBe("rl.steps must be an integer ≥ 0, got 1.5");
    expect(line({ rl: { steps: 1.5 } }, { nameOf: () => "--steps", source: "x.yaml" }).message).toBe(
      "--steps must be an integer ≥ 0, got 1.5",
    );
    expect(line({ rl: { topP: 0 } }, { source: "c.yaml" }).message).toBe(
      "rl.topP must be a number > 0 and ≤ 1, got 0 in c.yaml",
    );
    expect(line({ rl: { sampler: "greedy" } }).message).toBe(
      'rl.sampler must be one of rlcs, uniform, got "greedy"',
    );
    expect(line({ rl: { levels: [] } }).message).toBe("rl.levels must be a list of at least 1 item, got []");
    expect(line({ rl: { levels: [0] } }).message).toBe("rl.levels.0 must be an integer > 0, got 0");
    expect(line({ rl: 3 }).message).toBe("rl must be a mapping of keys, got 3");
    expect(line({ seed: "x", rl: { steps: -1 } }).message).toMatch(
      /^seed must be an integer, got "x" \(and 1 more problem\)$/,
    );
  });

  it("parseOrThrow throws a GlmvError with the line and where", () => {
    expect(parseOrThrow(Schema, {}, "bad_config").rl.steps).toBe(30);
    try {
      parseOrThrow(Schema, { rl: { stpes: 1 } }, "bad_config", { source: "f.yaml" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GlmvError);
      expect(e).toMatchObject({ code: "bad_config", where: "f.yaml" });
      expect((e as Error).message).toMatch(/^unknown key 'rl.stpes' in f.yaml \(did you mean 'rl.steps'\?\)/);
    }
  });

  it("names fields under a prefix (request bodies: items.3.answer) in the same wording", () => {
    try {
      parseOrThrow(Schema, { rl: { stepz: 1 } }, "bad_input", { prefix: "items.3" });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: "bad_input", where: "items.3.rl.stepz" });
      expect((e as Error).message).toMatch(
        /^unknown key 'items.3.rl.stepz' \(did you mean 'items.3.rl.steps'\?\)/,
      );
    }
    expect(line({ rl: { levels: [] } }, { prefix: "body" }).message).toBe(
      "body.rl.levels must be a list of at least 1 item, got []",
    );
  });

  it("words a stray ZodError (no schema, no input) from zod's own message", () => {
    const error = Schema.safeParse({ rl: { steps: "x" } }).error!;
    const stray = zodErrorLine(undefined, error, undefined);
    expect(stray.message).toMatch(/^rl\.steps is invalid \(.+\)$/);
    expect(stray.where).toBe("rl.steps");
  });
});
