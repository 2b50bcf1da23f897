import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadCheckpointDir } from "../../src/model/checkpoint.ts";
import { presetConfig } from "../../src/model/config.ts";
import { parseHfConfig } from "../../src/model/config-hf.ts";
import { expectedTensors } from "../../src/model/config-tensors.ts";
import { initParams, type MoeLayerParams } from "../../src/model/params.ts";
import { loadTinyTokenizer } from "../../src/model/tokenizer.ts";
import { LocalPolicy } from "../../src/rl/engines/local/local-policy.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
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
