import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpointDir } from "../model/checkpoint.ts";
import { expectedTensors, parseHfConfig, presetConfig } from "../model/config.ts";
import { main } from "./main.ts";
import { parseSftArgs } from "./sft.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe("parseSftArgs", () => {
  it("applies defaults and reads the options", () => {
    const o = parseSftArgs(["--out", "x", "--steps", "5", "--families", "counting,math"]);
    expect(o).toMatchObject({ out: "x", steps: 5, seed: 1, families: ["counting", "math"], lr: 3e-3 });
  });

  it("returns a usage error for bad values and null for --help", () => {
    expect(typeof parseSftArgs(["--steps", "zero"])).toBe("string");
    expect(typeof parseSftArgs(["--families", "poetry"])).toBe("string");
    expect(typeof parseSftArgs(["--bogus"])).toBe("string");
    expect(parseSftArgs(["--help"])).toBeNull();
  });
});

describe("glmv sft", () => {
  it("runs end to end on a small setting and writes a checkpoint folder loadable by loadCheckpointDir", async () => {
    const root = mkdtempSync(join(tmpdir(), "glmv-sft-cli-"));
    made.push(root);
    const out = join(root, "ckpt");
    const argv = ["sft", "--out", out, "--steps", "3", "--seed", "2", "--families", "counting"];
    const code = await main([
      ...argv,
      "--per-family",
      "18",
      "--heldout",
      "2",
      "--rows",
      "2",
      "--context",
      "128",
    ]);
    expect(code).toBe(0);
    const cfg = presetConfig("tiny");
    const { config, tensors } = await loadCheckpointDir(out, expectedTensors(cfg));
    expect(tensors.size).toBe(expectedTensors(cfg).length);
    expect(parseHfConfig(config).text.vocabSize).toBe(cfg.text.vocabSize);
    expect(existsSync(join(out, "tokenizer.json"))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, "sft-summary.json"), "utf8"));
    expect(summary.steps).toBe(3);
    expect(summary.heldout.perFamily).toHaveProperty("counting");
    expect(summary.fill).toBeGreaterThan(0);
  }, 120_000);

  it("exits 2 on a usage error", async () => {
    expect(await main(["sft", "--steps", "-1"])).toBe(2);
  });
});
