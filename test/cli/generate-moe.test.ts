import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModelDir } from "../../src/cli/generate.ts";
import { saveCheckpointDir } from "../../src/model/checkpoint.ts";
import { presetConfig } from "../../src/model/config.ts";
import { toHfConfig } from "../../src/model/config-hf.ts";
import { initParams, paramsToNamed } from "../../src/model/params.ts";
import { initTensorEngine } from "../../src/tensor/engine.ts";
import { disposeAll } from "../../src/tensor/own.ts";

beforeAll(async () => {
  await initTensorEngine();
});

// From src/model/moe.test.ts: it loads through cli/generate.ts (a CLI module), so it lives with the CLI tests.
describe("glm4v_moe checkpoints", () => {
  it("a saved tiny-moe checkpoint loads back for `glmv generate` with the same config and weights", async () => {
    const cfg = presetConfig("tiny-moe");
    const params = initParams(cfg, 4);
    const dir = join(mkdtempSync(join(tmpdir(), "glmv-moe-")), "ckpt");
    try {
      const named = paramsToNamed(params);
      await saveCheckpointDir(dir, { config: toHfConfig(cfg), tensors: named });
      const loaded = await loadModelDir(dir);
      expect(loaded.cfg).toEqual(cfg);
      const back = paramsToNamed(loaded.params);
      const key = "model.language_model.layers.2.mlp.experts.6.down_proj.weight";
      expect(back.get(key)!.data).toEqual(named.get(key)!.data);
      disposeAll(loaded.params);
    } finally {
      disposeAll(params);
      rmSync(join(dir, ".."), { recursive: true, force: true });
    }
  });
});
