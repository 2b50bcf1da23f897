import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import {
  type CheckpointMismatch,
  canonicalKey,
  type ExpectedTensor,
  inspectCheckpointDir,
  loadCheckpointDir,
  saveCheckpointDir,
} from "./checkpoint.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

const FIXTURE_DIR = fileURLToPath(new URL("../../test/fixtures/glm4v-tiny/", import.meta.url));
const fixture = readSafetensors(readFileSync(join(FIXTURE_DIR, "model.safetensors")));
const fixtureExpected: ExpectedTensor[] = [...fixture].map(([key, t]) => ({ key, shape: t.shape }));
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), "glmv-ckpt-"));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe("canonical keys", () => {
  it("maps the hub prefix variants onto one key", () => {
    expect(canonicalKey("model.visual.blocks.0.attn.qkv.weight")).toBe("visual.blocks.0.attn.qkv.weight");
    expect(canonicalKey("visual.blocks.0.attn.qkv.weight")).toBe("visual.blocks.0.attn.qkv.weight");
    expect(canonicalKey("model.language_model.layers.1.mlp.down_proj.weight")).toBe(
      "layers.1.mlp.down_proj.weight",
    );
    expect(canonicalKey("model.layers.1.mlp.down_proj.weight")).toBe("layers.1.mlp.down_proj.weight");
    expect(canonicalKey("lm_head.weight")).toBe("lm_head.weight");
  });
});

describe("loadCheckpointDir", () => {
  it("loads the reference fixture folder (config + model.safetensors, 56 tensors)", async () => {
    const { config, tensors } = await loadCheckpointDir(FIXTURE_DIR, fixtureExpected);
    expect((config as { model_type: string }).model_type).toBe("glm4v");
    expect(tensors.size).toBe(56);
    expect(Array.from(tensors.get("lm_head.weight")?.data.subarray(0, 4) ?? [])).toEqual(
      Array.from(fixture.get("lm_head.weight")?.data.subarray(0, 4) ?? []),
    );
  });

  it("maps older hub prefixes (visual.*, model.layers.*) onto the expected keys", async () => {
    const renamed = fixtureExpected.map((e) => ({
      key: e.key.replace("model.visual.", "visual.").replace("model.language_model.", "model."),
      shape: e.shape,
    }));
    const { tensors } = await loadCheckpointDir(FIXTURE_DIR, renamed);
    expect([...tensors.keys()].sort()).toEqual(renamed.map((e) => e.key).sort());
  });

  it("lists missing, unexpected and mis-shaped keys all in one checkpoint_mismatch", async () => {
    const expected = fixtureExpected
      .filter((e) => e.key !== "model.language_model.norm.weight")
      .map((e) => (e.key === "lm_head.weight" ? { key: e.key, shape: [256, 96] } : e));
    expected.push({ key: "model.language_model.layers.2.mlp.down_proj.weight", shape: [96, 192] });
    try {
      await loadCheckpointDir(FIXTURE_DIR, expected);
      expect.unreachable();
    } catch (e) {
      expect(isGlmvError(e) && e.code === "checkpoint_mismatch").toBe(true);
      const m = (e as Error).cause as CheckpointMismatch;
      expect(m.missing).toEqual(["model.language_model.layers.2.mlp.down_proj.weight"]);
      expect(m.unexpected).toEqual(["model.language_model.norm.weight"]);
      expect(m.misshaped).toEqual([{ key: "lm_head.weight", expected: [256, 96], actual: [300, 96] }]);
      for (const s of ["layers.2.mlp.down_proj", "language_model.norm.weight", "lm_head.weight [300,96]"]) {
        expect((e as Error).message).toContain(s);
      }
    }
  });

  it("sums up a checkpoint that does not fit its config in one short line (counts and a few examples)", async () => {
    const extra = Array.from({ length: 400 }, (_, i) => ({
      key: `model.language_model.layers.${i + 2}.mlp.down_proj.weight`,
      shape: [96, 192],
    }));
    const err = await loadCheckpointDir(FIXTURE_DIR, [...fixtureExpected, ...extra]).catch((e: unknown) => e);
    expect(isGlmvError(err) && err.code).toBe("checkpoint_mismatch");
    const message = (err as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(
      /400 tensors missing, e\.g\. model\.language_model\.layers\.2\.mlp\.down_proj\.weight, /,
    );
    expect(message).not.toContain("layers.5.");
    expect(message.length).toBeLessThan(400);
    expect(((err as Error).cause as CheckpointMismatch).missing).toHaveLength(400); // the full list stays on cause
  });

  it("reads sharded checkpoints through model.safetensors.index.json", async () => {
    const dir = tmp();
    const a = { shape: [2], data: new Float32Array([1, 2]) };
    const b = { shape: [1, 2], data: new Float32Array([3, 4]) };
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "model-00001-of-00002.safetensors"), writeSafetensors({ "model.a": a }));
    writeFileSync(join(dir, "model-00002-of-00002.safetensors"), writeSafetensors({ "model.b": b }));
    const weightMap = {
      "model.a": "model-00001-of-00002.safetensors",
      "model.b": "model-00002-of-00002.safetensors",
    };
    writeFileSync(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const { tensors } = await loadCheckpointDir(dir, [
      { key: "a", shape: [2] },
      { key: "b", shape: [1, 2] },
    ]);
    expect(Array.from(tensors.get("b")?.data ?? [])).toEqual([3, 4]);
    writeFileSync(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { ...weightMap, "model.c": "model-00001-of-00002.safetensors" } }),
    );
    await expect(loadCheckpointDir(dir, [])).rejects.toMatchObject({ code: "checkpoint_corrupt" });
  });
});

describe("saveCheckpointDir", () => {
  const v1 = { config: { v: 1 }, tensors: { w: { shape: [2], data: new Float32Array([1, 2]) } } };
  const v2 = {
    config: { v: 2 },
    tensors: { w: { shape: [2], data: new Float32Array([5, 6]) } },
    tokenizerJson: { t: 1 },
  };

  it("round-trips and replaces an existing checkpoint", async () => {
    const parent = tmp();
    const dir = join(parent, "ckpt");
    await saveCheckpointDir(dir, v1);
    await saveCheckpointDir(dir, { ...v2, dtype: "BF16" });
    const { config, tensors } = await loadCheckpointDir(dir, [{ key: "w", shape: [2] }]);
    expect(config).toEqual({ v: 2 });
    expect(tensors.get("w")?.dtype).toBe("BF16");
    expect(Array.from(tensors.get("w")?.data ?? [])).toEqual([5, 6]);
    expect(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"))).toEqual({ t: 1 });
    expect(readdirSync(parent)).toEqual(["ckpt"]);
  });

  it("a failure mid-write leaves the old checkpoint whole and no temp folder behind", async () => {
    const parent = tmp();
    const dir = join(parent, "ckpt");
    await saveCheckpointDir(dir, v1);
    let calls = 0;
    const failing = {
      async writeFile(path: string, data: Uint8Array | string) {
        calls++;
        writeFileSync(path, typeof data === "string" ? data : data.subarray(0, 10)); // a half-written file…
        if (path.endsWith("model.safetensors")) throw new Error("disk full"); // …then the crash
      },
    };
    await expect(saveCheckpointDir(dir, v2, failing)).rejects.toMatchObject({ code: "io_error" });
    expect(calls).toBe(2);
    expect(readdirSync(parent)).toEqual(["ckpt"]);
    const { config, tensors } = await loadCheckpointDir(dir, [{ key: "w", shape: [2] }]);
    expect(config).toEqual({ v: 1 });
    expect(Array.from(tensors.get("w")?.data ?? [])).toEqual([1, 2]);
  });
});

describe("inspectCheckpointDir", () => {
  it("counts parameters and dtypes from headers only", async () => {
    const s = await inspectCheckpointDir(FIXTURE_DIR);
    const total = [...fixture.values()].reduce((n, t) => n + t.data.length, 0);
    expect(s.files).toEqual(["model.safetensors"]);
    expect(s.tensors).toHaveLength(56);
    expect(s.totalParameters).toBe(total);
    expect(s.parametersByDtype).toEqual({ F32: total });
  });
});
