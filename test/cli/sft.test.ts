import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { parseSftArgs } from "../../src/cli/sft.ts";
import { loadCheckpointDir } from "../../src/model/checkpoint.ts";
import { presetConfig } from "../../src/model/config.ts";
import { parseHfConfig } from "../../src/model/config-hf.ts";
import { expectedTensors } from "../../src/model/config-tensors.ts";
import { initParams, type MoeLayerParams } from "../../src/model/params.ts";
import { loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { SftConfig } from "../../src/rl/config.ts";
import { LocalPolicy } from "../../src/rl/local-policy.ts";
import { SftRunConfig } from "../../src/rl/sft.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

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

  it("--model tiny-moe writes a glm4v_moe checkpoint whose trained router bias loads back", async () => {
    const root = mkdtempSync(join(tmpdir(), "glmv-sft-moe-"));
    made.push(root);
    const out = join(root, "ckpt");
    const code = await main([
      "sft",
      "--model",
      "tiny-moe",
      "--out",
      out,
      "--steps",
      "3",
      "--bias-rate",
      "1e-2",
      "--families",
      "counting",
      "--per-family",
      "18",
      "--heldout",
      "0",
      "--rows",
      "2",
      "--context",
      "128",
    ]);
    expect(code).toBe(0);
    const cfg = presetConfig("tiny-moe");
    const { config, tensors } = await loadCheckpointDir(out, expectedTensors(cfg));
    expect(parseHfConfig(config).text.moe).toEqual(cfg.text.moe);
    const key = (l: number) => `model.language_model.layers.${l}.mlp.gate.e_score_correction_bias`;
    const saved = [1, 2].map((l) => Array.from(tensors.get(key(l))!.data));
    for (const b of saved) expect(b.some((v) => v !== 0)).toBe(true); // 3 steps of ±1e-2 moved it
    // the policy reads it back (the bias is part of the weights, not reset on load)
    const tok = await loadTinyTokenizer();
    const policy = new LocalPolicy(cfg, initParams(cfg, 9), tok);
    try {
      await policy.load(out);
      const loaded = [1, 2].map((l) =>
        Array.from(
          (policy.params.text.layers[l] as MoeLayerParams).correctionBias.ref.dataSync() as Float32Array,
        ),
      );
      expect(loaded).toEqual(saved);
    } finally {
      policy.dispose();
    }
    const summary = JSON.parse(readFileSync(join(out, "sft-summary.json"), "utf8"));
    expect(summary.model).toBe("tiny-moe");
    expect(summary.expertLoad.map((s: { layer: number }) => s.layer)).toEqual([1, 2]);
    expect(summary.heldout).toBeNull();
  }, 120_000);

  it("exits 2 on a usage error", async () => {
    expect(await main(["sft", "--steps", "-1"])).toBe(2);
  });
});
