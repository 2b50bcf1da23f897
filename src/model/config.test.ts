import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isGlmvError } from "../util/errors.ts";
import { PRESETS, presetConfig } from "./config.ts";
import { parseHfConfig, toHfConfig } from "./config-hf.ts";
import { countParameters, expectedTensors } from "./config-tensors.ts";
import { readSafetensors } from "./safetensors.ts";
import { TINY_TOKEN_IDS } from "./tiny-tokenizer.ts";

const FIXTURE = new URL("../../test/fixtures/glm4v-tiny/", import.meta.url);
const fixtureJson = () => JSON.parse(readFileSync(new URL("config.json", FIXTURE), "utf8"));

describe("GlmvConfig", () => {
  it("parses the fixture's old-style rope_scaling/rope_theta config", () => {
    const cfg = parseHfConfig(fixtureJson());
    expect(cfg.text.mropeSection).toEqual([1, 2, 3]);
    expect(cfg.text.partialRotaryFactor).toBe(0.5);
    expect(cfg.vision.outHiddenSize).toBe(96);
    expect(cfg.tokens.imageTokenId).toBe(290);
  });

  it("parses the v5 rope_parameters form to the same config, and round-trips toHfConfig", () => {
    const old = fixtureJson();
    const tc = { ...old.text_config };
    delete tc.rope_scaling;
    delete tc.rope_theta;
    delete tc.partial_rotary_factor;
    tc.rope_parameters = {
      rope_type: "default",
      rope_theta: 10000,
      partial_rotary_factor: 0.5,
      mrope_section: [1, 2, 3],
    };
    const v5 = parseHfConfig({ ...old, text_config: tc });
    expect(v5).toEqual(parseHfConfig(old));
    expect(parseHfConfig(toHfConfig(v5))).toEqual(v5);
  });

  it("requires the shape keys: {} is refused in one line naming the field and the file", () => {
    const oneLineError = (json: unknown) => {
      try {
        parseHfConfig(json, "ckpt/config.json");
      } catch (e) {
        expect(isGlmvError(e) && e.code).toBe("bad_config");
        expect((e as Error).message).not.toContain("\n");
        expect((e as Error).message).toContain("ckpt/config.json");
        return (e as Error).message;
      }
      throw new Error("parsed");
    };
    expect(oneLineError({})).toMatch(/text_config is missing/);
    const noDepth = fixtureJson();
    delete noDepth.vision_config.depth;
    expect(oneLineError(noDepth)).toMatch(/vision_config\.depth is missing \(a number\)/);
    const noLayers = fixtureJson();
    delete noLayers.text_config.num_hidden_layers;
    expect(oneLineError(noLayers)).toMatch(/text_config\.num_hidden_layers is missing/);
    const wrongType = fixtureJson();
    wrongType.text_config.hidden_size = "x";
    expect(oneLineError(wrongType)).toMatch(/text_config\.hidden_size: .*expected number/);
    expect(oneLineError([])).toMatch(/expected object/);
  });

  it("defaults the non-shape keys to GLM-4.1V values and rejects inconsistent configs", () => {
    const sparse = fixtureJson();
    for (const k of ["image_token_id", "video_token_id"]) delete sparse[k];
    for (const k of ["rms_norm_eps", "max_position_embeddings", "rope_theta"]) delete sparse.text_config[k];
    const cfg = parseHfConfig(sparse);
    expect(cfg.tokens.imageTokenId).toBe(151343);
    expect(cfg.text.maxPositionEmbeddings).toBe(32768);
    expect(cfg.text.rmsNormEps).toBe(1e-5);
    const bad = fixtureJson();
    bad.text_config.rope_scaling.mrope_section = [1, 1, 1];
    expect(() => parseHfConfig(bad)).toThrow(/mropeSection/);
    expect(() => parseHfConfig({ text_config: { hidden_size: "x" } })).toThrow(/glm4v/);
  });

  it("counts parameters from the checkpoint shapes", () => {
    // GLM-4.1V-9B-Thinking incl. the vision tower: 10,292,777,472 (≈ 10.3B)
    expect(countParameters(PRESETS["glm-4.1v-9b"])).toBe(10_292_777_472);
    expect(countParameters(PRESETS.tiny)).toBe(668_608); // tiny preset
    expect(countParameters(PRESETS.small)).toBe(21_567_232); // ≈ 20M
    expect(countParameters(parseHfConfig(fixtureJson()))).toBe(442_048);
  });

  it("expectedTensors matches the fixture checkpoint's keys and shapes exactly", () => {
    const st = readSafetensors(new Uint8Array(readFileSync(new URL("model.safetensors", FIXTURE))));
    const want = expectedTensors(parseHfConfig(fixtureJson()));
    expect(want).toHaveLength(st.size);
    for (const { key, shape } of want) expect(st.get(key)?.shape, key).toEqual(shape);
  });

  it("9B key list has the spec's shapes", () => {
    const byKey = new Map(expectedTensors(PRESETS["glm-4.1v-9b"]).map((t) => [t.key, t.shape]));
    expect(byKey.get("model.visual.blocks.23.attn.qkv.weight")).toEqual([4608, 1536]);
    expect(byKey.get("model.visual.blocks.0.mlp.gate_proj.weight")).toEqual([4096, 1536]);
    expect(byKey.get("model.visual.merger.gate_proj.weight")).toEqual([13696, 4096]);
    expect(byKey.get("model.language_model.layers.39.mlp.gate_up_proj.weight")).toEqual([27392, 4096]);
    expect(byKey.get("model.language_model.layers.0.self_attn.k_proj.weight")).toEqual([256, 4096]);
    expect(byKey.get("model.visual.embeddings.position_embedding.weight")).toEqual([576, 1536]);
  });

  it("tiny preset follows design.md and the tiny tokenizer's special ids", () => {
    const t = presetConfig("tiny");
    expect(t.text.vocabSize).toBe(256);
    expect((t.vision.imageSize / t.vision.patchSize) ** 2).toBe(16); // 56×56 → 16 patches → 4 tokens
    expect(t.tokens.imageTokenId).toBe(TINY_TOKEN_IDS["<|image|>"]);
    expect(t.tokens.videoTokenId).toBe(TINY_TOKEN_IDS["<|video|>"]);
    expect(t.tokens.imageStartTokenId).toBe(TINY_TOKEN_IDS["<|begin_of_image|>"]);
    expect(t.tokens.imageEndTokenId).toBe(TINY_TOKEN_IDS["<|end_of_image|>"]);
    expect(t.tokens.videoStartTokenId).toBe(TINY_TOKEN_IDS["<|begin_of_video|>"]);
    expect(t.tokens.videoEndTokenId).toBe(TINY_TOKEN_IDS["<|end_of_video|>"]);
    expect(presetConfig("tiny", { text: { vocabSize: 200 } }).text.vocabSize).toBe(200);
  });
});
