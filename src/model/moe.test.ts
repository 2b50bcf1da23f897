import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Array as JaxArray, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { initTensorEngine } from "../tensor/engine.ts";
import { disposeAll, totalRefCount } from "../tensor/own.ts";
import { loadCheckpointDir } from "./checkpoint.ts";
import { type MoeConfig, PRESETS, presetConfig } from "./config.ts";
import { parseHfConfig, toHfConfig } from "./config-hf.ts";
import { countActiveParameters, countParameters, expectedTensors } from "./config-tensors.ts";
import { createGenerator } from "./generate.ts";
import { buildInputs, forwardLogits } from "./model.ts";
import { routeTokens, runMoeBlock, topKMask } from "./moe.ts";
import { initParams, paramsFromNamed, paramsToNamed, pathOfKey } from "./params.ts";

beforeAll(async () => {
  await initTensorEngine();
});

const MOE: MoeConfig = {
  numExperts: 4,
  topK: 2,
  numShared: 1,
  intermediateSize: 3,
  firstDenseLayers: 1,
  routedScalingFactor: 1,
  normTopK: true,
  nGroup: 1,
  topkGroup: 1,
  auxLossCoef: 1e-4,
};

const rows = (a: JaxArray, w: number): number[][] => {
  const d = Array.from(a.ref.dataSync() as ArrayLike<number>);
  return Array.from({ length: d.length / w }, (_, i) => d.slice(i * w, (i + 1) * w));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe("router", () => {
  it("topKMask marks the k largest per row, ties to the lower index", () => {
    const m = topKMask(np.array([0.1, 0.9, 0.5, 0.2, 0.3, 0.3, 0.3, 0.0], { shape: [2, 4] }), 2);
    expect(rows(m, 4)).toEqual([
      [0, 1, 1, 0],
      [1, 1, 0, 0],
    ]);
  });

  it("the bias changes which experts are chosen but not their weights (hand-computed)", () => {
    // x = e0 and the router reads logits straight from x: logits = [2, 1, 0, -1]
    const router = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], { shape: [4, 4] });
    const x = np.array([2, 1, 0, -1], { shape: [1, 4] });
    const bias = np.array([0, 0, 0.6, 0]); // σ(0)+0.6 = 1.1 beats σ(1) = 0.731 but not σ(2) = 0.881+0
    const r = routeTokens(x, router, bias, MOE);
    expect(rows(r.selected, 4)).toEqual([[1, 0, 1, 0]]);
    const s0 = sigmoid(2);
    const s2 = sigmoid(0);
    const w = rows(r.weights, 4)[0]!;
    // weights from the unbiased scores, renormalised over the chosen pair
    expect(w[0]).toBeCloseTo(s0 / (s0 + s2), 6);
    expect(w[2]).toBeCloseTo(s2 / (s0 + s2), 6);
    expect(w[1]).toBe(0);
    expect(rows(r.scores, 4)[0]![1]).toBeCloseTo(sigmoid(1), 6);
    disposeAll(r);
  });

  it("routed_scaling_factor scales the normalised weights; normTopK off keeps raw scores", () => {
    const mk = () => ({
      router: np.eye(4),
      x: np.array([2, 1, 0, -1], { shape: [1, 4] }),
      bias: np.zeros([4]),
    });
    let a = mk();
    const scaled = routeTokens(a.x, a.router, a.bias, { ...MOE, routedScalingFactor: 2.5 });
    expect(rows(scaled.weights, 4)[0]!.reduce((p, q) => p + q, 0)).toBeCloseTo(2.5, 5);
    a = mk();
    const raw = routeTokens(a.x, a.router, a.bias, { ...MOE, normTopK: false });
    expect(rows(raw.weights, 4)[0]![0]).toBeCloseTo(sigmoid(2), 6);
    disposeAll(scaled, raw);
  });
});

describe("MoE block", () => {
  it("equals Σ_k w_k·expert_k(x) + shared(x) computed per expert, and consumes its inputs", () => {
    const h = 4;
    const mat = (r: number, c: number, seed: number) =>
      np.array(
        Float32Array.from({ length: r * c }, (_, i) => Math.sin(seed * 13.7 + i * 0.91) * 0.5),
        { shape: [r, c] },
      );
    const experts = [0, 1, 2, 3].map((e) => ({
      gate: mat(3, h, e + 1),
      up: mat(3, h, e + 11),
      down: mat(h, 3, e + 21),
    }));
    const shared = { gate: mat(3, h, 31), up: mat(3, h, 32), down: mat(h, 3, 33) };
    const p = { router: mat(4, h, 41), correctionBias: np.array([0.05, -0.02, 0, 0.01]), experts, shared };
    const x = mat(5, h, 51);
    const keep = tree.ref(p);
    const { out, routing } = runMoeBlock(p, x.ref, MOE);
    // reference: each token through its chosen experts one by one
    const swi = (e: (typeof experts)[number], xi: ReturnType<typeof mat>) => {
      const g = np.matmul(xi.ref, e.gate.ref.transpose());
      const act = g.ref.mul(np.reciprocal(np.exp(g.neg()).add(1)));
      return np.matmul(act.mul(np.matmul(xi, e.up.ref.transpose())), e.down.ref.transpose());
    };
    const w = rows(routing.weights, 4);
    const xs = rows(x, h);
    const got = rows(out, h);
    xs.forEach((xr, t) => {
      const xi = np.array(xr, { shape: [1, h] });
      let want = swi(keep.shared, xi.ref);
      w[t]!.forEach((wt, e) => {
        if (wt !== 0) want = want.add(swi(keep.experts[e]!, xi.ref).mul(wt));
      });
      xi.dispose();
      const wv = Array.from(want.dataSync() as ArrayLike<number>);
      wv.forEach((v, j) => {
        expect(got[t]![j]).toBeCloseTo(v, 5);
      });
      expect(w[t]!.filter((v) => v !== 0)).toHaveLength(2);
    });
    disposeAll(routing, keep);
    expect(totalRefCount(p)).toBe(0); // the block consumed its parameters
  });
});

describe("glm4v_moe config, presets and key layout", () => {
  it("GLM-4.5V counts: 107,710,933,120 total and 12,182,609,920 active", () => {
    const g = PRESETS["glm-4.5v"];
    expect(countParameters(g)).toBe(107_710_933_120);
    expect(countActiveParameters(g)).toBe(12_182_609_920);
    const byKey = new Map(expectedTensors(g).map((t) => [t.key, t.shape]));
    const L = "model.language_model.layers.";
    expect(byKey.get(`${L}0.self_attn.q_proj.weight`)).toEqual([12288, 4096]);
    expect(byKey.get(`${L}0.self_attn.o_proj.weight`)).toEqual([4096, 12288]);
    expect(byKey.get(`${L}0.mlp.gate_proj.weight`)).toEqual([10944, 4096]);
    expect(byKey.get(`${L}45.mlp.experts.127.down_proj.weight`)).toEqual([4096, 1408]);
    expect(byKey.get(`${L}45.mlp.gate.e_score_correction_bias`)).toEqual([128]);
    expect(byKey.get(`${L}1.post_self_attn_layernorm.weight`)).toBeUndefined();
    expect(byKey.get("model.visual.merger.gate_proj.weight")).toEqual([10944, 4096]);
    expect(g.tokens.imageTokenId).toBe(151363);
  });

  it("round-trips through the HF config form, and rejects group-limited routing", () => {
    const cfg = presetConfig("tiny-moe");
    const hf = toHfConfig(cfg);
    expect(hf.model_type).toBe("glm4v_moe");
    expect(parseHfConfig(hf)).toEqual(cfg);
    const bad = structuredClone(hf) as { text_config: Record<string, unknown> };
    bad.text_config.n_group = 4;
    expect(() => parseHfConfig(bad)).toThrow(/invalid GlmvConfig/);
  });

  it("maps expert, shared-expert, router and bias keys; named tensors round-trip", () => {
    const L = "model.language_model.layers.2.";
    expect(pathOfKey(`${L}mlp.experts.5.up_proj.weight`)).toEqual(["text", "layers", 2, "experts", 5, "up"]);
    expect(pathOfKey(`${L}mlp.shared_experts.down_proj.weight`)).toEqual([
      "text",
      "layers",
      2,
      "shared",
      "down",
    ]);
    expect(pathOfKey(`${L}mlp.gate.weight`)).toEqual(["text", "layers", 2, "router"]);
    expect(pathOfKey(`${L}mlp.gate.e_score_correction_bias`)).toEqual([
      "text",
      "layers",
      2,
      "correctionBias",
    ]);
    const cfg = presetConfig("tiny-moe", { text: { vocabSize: 64 } });
    const params = initParams(cfg, 3);
    const named = paramsToNamed(params);
    expect([...named.keys()].sort()).toEqual(
      expectedTensors(cfg)
        .map((t) => t.key)
        .sort(),
    );
    expect(named.get(`${L}mlp.gate.e_score_correction_bias`)!.data.every((v) => v === 0)).toBe(true);
    const back = paramsFromNamed(named, cfg);
    expect(paramsToNamed(back).get(`${L}mlp.experts.7.gate_proj.weight`)!.data).toEqual(
      named.get(`${L}mlp.experts.7.gate_proj.weight`)!.data,
    );
    const missing = new Map(named);
    missing.delete(`${L}mlp.experts.3.down_proj.weight`);
    expect(() => paramsFromNamed(missing, cfg)).toThrow(/missing tensor/);
    disposeAll(params, back);
  });
});

describe("tiny-moe generation", () => {
  it("the KV-cache generator (interleaved rope tables + NeoX q/k reorder) equals greedy full recomputation", async () => {
    const cfg = presetConfig("tiny-moe", { text: { vocabSize: 64 } });
    const params = initParams(cfg, 3, 0.3);
    const prompt = [5, 9, 17, 33, 2, 40, 11, 7];
    const steps = 6;
    const gen = createGenerator(cfg, { batchSize: 1, promptLen: prompt.length, maxNewTokens: steps });
    try {
      const out = await gen.generate(params, { prompts: [prompt] }, { temperature: 0 });
      const seq = [...prompt];
      for (let i = 0; i < steps; i++) {
        const { inputs } = buildInputs(cfg, { tokens: [seq] });
        const logits = rows(forwardLogits(tree.ref(params), inputs, cfg).reshape([-1, 64]), 64);
        const last = logits[logits.length - 1]!;
        seq.push(last.indexOf(Math.max(...last)));
      }
      expect(out.tokens[0]).toEqual(seq.slice(prompt.length));
    } finally {
      gen.dispose();
      disposeAll(params);
    }
  });
});

describe("glm4v_moe checkpoints", () => {
  it("the fixture folder loads through the checkpoint loader with the 4.5V key list", async () => {
    const dir = fileURLToPath(new URL("../../test/fixtures/glm4v-moe-tiny/", import.meta.url));
    const cfg = parseHfConfig(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")));
    const { tensors } = await loadCheckpointDir(dir, expectedTensors(cfg));
    expect(tensors.size).toBe(118);
  });
});
