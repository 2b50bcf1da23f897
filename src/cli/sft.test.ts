import { describe, expect, it } from "vitest";
import { SftRunConfig } from "../rl/job/sft.ts";
import { SftConfig } from "../rl/loop/config.ts";
import { parseSftArgs } from "./sft.ts";

describe("parseSftArgs", () => {
  it("applies defaults and reads the options", () => {
    const o = parseSftArgs(["--out", "x", "--steps", "5", "--families", "counting,math"]);
    expect(o).toMatchObject({ out: "x", steps: 5, seed: 1, families: ["counting", "math"], lr: 3e-3 });
    expect(o).toMatchObject({ model: "tiny", biasRate: 1e-3, auxCoef: 1e-4 });
    const moe = parseSftArgs(["--model", "tiny-moe", "--bias-rate", "0", "--aux-coef", "0"]);
    expect(moe).toMatchObject({ model: "tiny-moe", biasRate: 0, auxCoef: 0 });
  });

  it("reads the numbers through the one SFT schema: its defaults and limits, the command's own steps and seed", () => {
    const schema = SftRunConfig.parse({});
    const o = parseSftArgs([]);
    expect(o).toMatchObject({
      steps: 80,
      seed: 1,
      rows: schema.rows,
      context: schema.context,
      lr: schema.lr,
    });
    expect(o).toMatchObject({ evalEvery: schema.evalEvery, style: schema.style });
    expect(SftConfig.parse({}).lr).toBe(schema.lr);
    expect(parseSftArgs(["--steps", "1.5"])).toMatch(/^option --steps: /);
    expect(parseSftArgs(["--steps", "0"])).toMatch(/^option --steps: /);
    expect(parseSftArgs(["--lr", "0"])).toMatch(/^option --lr: /);
    expect(parseSftArgs(["--rows=-2"])).toMatch(/^option --rows: /);
    expect(parseSftArgs(["--lr", "1e-4", "--rows", "3"])).toMatchObject({ lr: 1e-4, rows: 3 });
  });

  it("returns a usage error for bad values and null for --help", () => {
    expect(typeof parseSftArgs(["--steps", "zero"])).toBe("string");
    expect(typeof parseSftArgs(["--families", "poetry"])).toBe("string");
    expect(typeof parseSftArgs(["--bogus"])).toBe("string");
    expect(typeof parseSftArgs(["--model", "glm-4.5v"])).toBe("string");
    expect(typeof parseSftArgs(["--bias-rate", "-1"])).toBe("string");
    expect(parseSftArgs(["--help"])).toBeNull();
  });
});
