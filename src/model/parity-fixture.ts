/**
 * Test support for the Hugging Face parity tests (parity.test.ts, parity-moe.test.ts): load a vendored fixture
 * folder (config.json, model.safetensors, fixtures.safetensors), look tensors up by name, turn a recorded case
 * into a `HostBatch`, compare arrays by relative error, and run the forward on the native engine.
 */
import { readFileSync } from "node:fs";
import { type Array as JaxArray, tree } from "@jax-js/jax";
import { hostLeaves } from "../tensor/onnx/host-mirror.ts";
import { compileNative, loadOnnxRuntime, toHost } from "../tensor/onnx/program.ts";
import type { GlmvConfig } from "./config.ts";
import { parseHfConfig } from "./config-hf.ts";
import { buildInputs, forwardLogits, type HostBatch, type ModelInputs } from "./model.ts";
import { type GlmvParams, paramsFromNamed } from "./params.ts";
import type { GridThw } from "./position-ids.ts";
import { readSafetensors, type SafeTensor } from "./safetensors.ts";

/** A loaded fixture folder. `params` are owned by the caller. */
export type ParityFixture = {
  cfg: GlmvConfig;
  weights: Map<string, SafeTensor>;
  params: GlmvParams;
  /** The recorded reference tensors. */
  fx: Map<string, SafeTensor>;
  /** A recorded tensor; throws when the fixture lacks it. */
  get: (name: string) => SafeTensor;
  /** The model input of case `name` (ids, attention mask, grids and pixels as recorded). */
  hostBatch: (name: string) => HostBatch;
};

/** Rows of a 2-D tensor as plain number arrays. */
export function rows2d(t: SafeTensor): number[][] {
  const [r, c] = t.shape as [number, number];
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}

/** max |a − b| / max |b| */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i]! - expected[i]!));
    den = Math.max(den, Math.abs(expected[i]!));
  }
  return num / den;
}

/**
 * Load a fixture folder (a `URL` ending in "/") into a config, parameters and the recorded tensors.
 * @example const f = loadParityFixture(new URL("../../test/fixtures/glm4v-tiny/", import.meta.url));
 */
export function loadParityFixture(dir: URL): ParityFixture {
  const cfg = parseHfConfig(JSON.parse(readFileSync(new URL("config.json", dir), "utf8")));
  const weights = readSafetensors(new Uint8Array(readFileSync(new URL("model.safetensors", dir))));
  const params = paramsFromNamed(weights, cfg);
  const fx = readSafetensors(new Uint8Array(readFileSync(new URL("fixtures.safetensors", dir))));
  const get = (name: string): SafeTensor => {
    const t = fx.get(name);
    if (!t) throw new Error(`fixture ${name} missing`);
    return t;
  };
  const hostBatch = (name: string): HostBatch => {
    const batch: HostBatch = {
      tokens: rows2d(get(`${name}.input_ids`)),
      attentionMask: rows2d(get(`${name}.attention_mask`)),
    };
    const img = fx.get(`${name}.image_grid_thw`);
    const vid = fx.get(`${name}.video_grid_thw`);
    if (img) batch.imageGridThw = rows2d(img) as unknown as GridThw[];
    if (vid) batch.videoGridThw = rows2d(vid) as unknown as GridThw[];
    const pix = fx.get(`${name}.pixel_values`) ?? fx.get(`${name}.pixel_values_videos`);
    if (pix) batch.pixels = pix.data as Float32Array;
    return batch;
  };
  return { cfg, weights, params, fx, get, hostBatch };
}

/**
 * Relative error (`relError`) of every recorded reference stage of case `name` — the fixture keys
 * `name.vision.*`, `name.text.*` and `name.logits`, except rope tables and keys `skip` rejects — against the
 * host arrays `stages` recorded by our forward pass (keyed without the case prefix). A stage we did not record
 * counts as Infinity, so it fails any tolerance under its own name.
 * @example stageErrors(f, "image_8x12", stages, (k) => k.includes("topk_"))
 */
export function stageErrors(
  f: Pick<ParityFixture, "fx">,
  name: string,
  stages: ReadonlyMap<string, Float32Array>,
  skip: (key: string) => boolean = () => false,
): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const [key, ref] of f.fx) {
    if (!key.startsWith(`${name}.`) || !/\.(vision|text)\.|\.logits$/.test(key)) continue;
    if (key.includes("rope_") || skip(key)) continue;
    const stage = key.slice(name.length + 1);
    const got = stages.get(stage);
    errors[stage] = got ? relError(got, ref.data) : Number.POSITIVE_INFINITY;
  }
  return errors;
}

/**
 * The logits of `batch` under `params` (borrowed) on the native engine: the same forward lowered to ONNX
 * (src/tensor/onnx/), two threads. Undefined when onnxruntime-node does not load.
 */
export async function nativeLogits(
  cfg: GlmvConfig,
  params: GlmvParams,
  batch: HostBatch,
): Promise<Float32Array | undefined> {
  if (!(await loadOnnxRuntime())) return undefined;
  const { inputs } = buildInputs(cfg, batch);
  const program = await compileNative(
    (p: GlmvParams, x: ModelInputs) => forwardLogits(p, x, cfg),
    [params, inputs],
    {
      threads: 2,
    },
  );
  try {
    const hostInputs = await Promise.all((tree.leaves(inputs) as JaxArray[]).map(toHost));
    const [logits] = await program.run([...(await hostLeaves(params)), ...hostInputs]);
    return logits!.data as Float32Array;
  } finally {
    await program.dispose();
  }
}
