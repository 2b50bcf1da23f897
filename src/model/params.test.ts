import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll } from "../tensor/own.ts";
import { presetConfig } from "./config.ts";
import { expectedTensors } from "./config-tensors.ts";
import { initNamed, initParams, paramsFromNamed, paramsToNamed, pathOfKey } from "./params.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const cfg = presetConfig("tiny", { text: { vocabSize: 64 } });

describe("params", () => {
  it("every checkpoint key has a tree path, and paths are distinct", () => {
    const paths = expectedTensors(cfg).map((t) => pathOfKey(t.key)?.join("/"));
    expect(paths.every((p) => p !== undefined)).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
    expect(pathOfKey("model.visual.unknown.weight")).toBeUndefined();
  });

  it("old key prefixes map by suffix", () => {
    expect(pathOfKey("visual.blocks.1.attn.qkv.weight")).toEqual(["vision", "blocks", 1, "qkv"]);
    expect(pathOfKey("model.layers.0.mlp.gate_up_proj.weight")).toEqual(["text", "layers", 0, "gateUp"]);
    expect(pathOfKey("model.embed_tokens.weight")).toEqual(["text", "embed"]);
  });

  it("init is seeded and round-trips through named tensors", () => {
    const named = initNamed(cfg, 7);
    expect(initNamed(cfg, 7).get("lm_head.weight")!.data).toEqual(named.get("lm_head.weight")!.data);
    expect(initNamed(cfg, 8).get("lm_head.weight")!.data).not.toEqual(named.get("lm_head.weight")!.data);
    expect(named.get("model.visual.blocks.0.norm1.weight")!.data.every((x) => x === 1)).toBe(true);
    expect(named.get("model.visual.downsample.bias")!.data.every((x) => x === 0)).toBe(true);
    const params = initParams(cfg, 7);
    const back = paramsToNamed(params);
    expect([...back.keys()].sort()).toEqual([...named.keys()].sort());
    for (const [k, t] of named) {
      expect(back.get(k)!.shape, k).toEqual(t.shape);
      expect(back.get(k)!.data, k).toEqual(t.data);
    }
    expect(params.text.embed.refCount).toBe(1); // paramsToNamed borrows
    disposeAll(params);
  });

  it("rejects missing tensors and wrong shapes", () => {
    const named = initNamed(cfg, 1);
    const missing = new Map(named);
    missing.delete("model.language_model.norm.weight");
    expect(() => paramsFromNamed(missing, cfg)).toThrow(/missing tensor/);
    const wrong = new Map(named);
    wrong.set("lm_head.weight", { shape: [1, 2], data: new Float32Array(2) });
    expect(() => paramsFromNamed(wrong, cfg)).toThrow(/shape/);
  });
});
